# Test-only tools for the layer unpacker.  The top-level Makefile pulls this
# in at its end with "-include tests/tools/tools.mk".
#   $(BUILD)/tests/layer-apply   cab_layer_apply() from the shell (tests, bench)
#   $(BUILD)/tests/mktar         tar generator for the malicious-layer corpus
UNPACK_TOOLS := $(BUILD)/tests/layer-apply $(BUILD)/tests/mktar

all: $(UNPACK_TOOLS)

$(BUILD)/tests/layer-apply: tests/tools/layer-apply.c $(BUILD)/libcab.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcab.a $(PKG_LIBS)

# No sanitizers: it only writes test input.
$(BUILD)/tests/mktar: tests/images/mktar.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< -lz
