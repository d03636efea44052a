# cab-agent, cab's reference agent (agent/cab-agent/main.c says what it
# does).  The top-level Makefile pulls this in with
# "-include agent/cab-agent/build.mk".
#   $(BUILD)/cab-agent                     the agent: static, libc only
#   $(BUILD)/tests/cab-agent-json-test     its JSON/HTTP/path unit checks,
#                                          run by tests/integration/cab_agent.sh
# It never links libcab.a or a shared library: it is mounted into arbitrary
# images at /.cab/bin/, and never built with the sanitizers.
CAB_AGENT_DIR  := agent/cab-agent
CAB_AGENT_LIB  := $(CAB_AGENT_DIR)/json.c $(CAB_AGENT_DIR)/util.c $(CAB_AGENT_DIR)/http.c \
                  $(CAB_AGENT_DIR)/tools.c
CAB_AGENT_HDR  := $(wildcard $(CAB_AGENT_DIR)/*.h)
CAB_AGENT_FLAGS := -static -O2 -std=gnu11 -Wall -Wextra -Werror -Wshadow -D_GNU_SOURCE

all: $(BUILD)/cab-agent $(BUILD)/tests/cab-agent-json-test

$(BUILD)/cab-agent: $(CAB_AGENT_DIR)/main.c $(CAB_AGENT_LIB) $(CAB_AGENT_HDR)
	@mkdir -p $(dir $@)
	$(call quiet,LD,$@)gcc $(CAB_AGENT_FLAGS) -o $@ $(CAB_AGENT_DIR)/main.c $(CAB_AGENT_LIB)

$(BUILD)/tests/cab-agent-json-test: $(CAB_AGENT_DIR)/json_test.c $(CAB_AGENT_LIB) $(CAB_AGENT_HDR)
	@mkdir -p $(dir $@)
	$(call quiet,LD,$@)gcc $(CAB_AGENT_FLAGS) -g -o $@ $(CAB_AGENT_DIR)/json_test.c $(CAB_AGENT_LIB)
