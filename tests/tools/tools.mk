# Test-only tools (the layer unpacker's, the verifier's).  The top-level Makefile pulls this
# in at its end with "-include tests/tools/tools.mk".
#   $(BUILD)/tests/layer-apply   cab_layer_apply() from the shell (tests, bench)
#   $(BUILD)/tests/mktar         tar generator for the malicious-layer corpus
#   $(BUILD)/tests/forge         the verifier-forging helper (static)
UNPACK_TOOLS := $(BUILD)/tests/layer-apply $(BUILD)/tests/mktar

all: $(UNPACK_TOOLS)

$(BUILD)/tests/layer-apply: tests/tools/layer-apply.c $(BUILD)/libcab.a
	@mkdir -p $(dir $@)
	$(call quiet,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcab.a $(PKG_LIBS)

# No sanitizers: it only writes test input.
$(BUILD)/tests/mktar: tests/images/mktar.c
	@mkdir -p $(dir $@)
	$(call quiet,LD,$@)$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< -lz

# A hostile helper for the verifier tests (tests/integration/cell_verify_forge.sh):
# static, because it runs as the code under test inside task images.
all: $(BUILD)/tests/forge

$(BUILD)/tests/forge: tests/tools/forge.c
	@mkdir -p $(dir $@)
	$(call quiet,LD,$@)$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -static -o $@ $<
