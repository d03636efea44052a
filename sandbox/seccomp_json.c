/* Loading a Docker/OCI-format seccomp profile (`--seccomp FILE`).
 *
 * Understood: defaultAction, defaultErrnoRet, architectures or archMap, and
 * syscalls[] with names (or the older name), action, errnoRet, args and
 * includes/excludes {caps, arches, minKernel}.  Syscall names libseccomp does
 * not know are skipped, as crun does.  Any other mistake fails with one line
 * naming the file, the JSON path and the reason. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "sandbox/seccomp_profile.h"

enum { PROFILE_MAX_BYTES = 16 << 20 };

struct loader {
  const char *file;
  struct cab_seccomp_ctx *ctx;
  cab_error *err;
};

/* Where in the document a value sits: "syscalls[3].args[0].op". */
struct jpath {
  char s[128];
};

static struct jpath
jpath_key(const struct jpath *parent, const char *key)
{
  struct jpath p;
  int n = snprintf(p.s, sizeof p.s, "%s%s%s", parent->s, parent->s[0] ? "." : "", key);
  if (n < 0 || (size_t)n >= sizeof p.s)
    snprintf(p.s, sizeof p.s, "(deep path)");
  return p;
}

static struct jpath
jpath_index(const struct jpath *parent, int i)
{
  struct jpath p;
  int n = snprintf(p.s, sizeof p.s, "%s[%d]", parent->s, i);
  if (n < 0 || (size_t)n >= sizeof p.s)
    snprintf(p.s, sizeof p.s, "(deep path)");
  return p;
}

static const struct jpath root_path = {""};

static void
cjson_deletep(cJSON **json)
{
  if (*json != NULL)
    cJSON_Delete(*json);
}
#define cleanup_cjson __attribute__((cleanup(cjson_deletep)))

__attribute__((format(printf, 3, 4))) static int
fail(const struct loader *l, const struct jpath *at, const char *fmt, ...)
{
  char reason[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  return cab_error_set(l->err, 0, "seccomp profile %s: %s: %s", l->file, at->s, reason);
}

static const struct {
  const char *name;
  uint32_t action; /* SCMP_ACT_ERRNO's is built from errnoRet */
} actions[] = {
  {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
  {"SCMP_ACT_ERRNO", 0},
  {"SCMP_ACT_KILL", SCMP_ACT_KILL},
  {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
  {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
  {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
  {"SCMP_ACT_LOG", SCMP_ACT_LOG},
};

static const struct {
  const char *name;
  enum scmp_compare op;
} operators[] = {
  {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
  {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
  {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
  {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* ---- typed field access ---- */

static const cJSON *
member(const cJSON *object, const char *key)
{
  const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
  return cJSON_IsNull(item) ? NULL : item; /* null is as absent */
}

static int
get_string(const struct loader *l, const cJSON *item, const struct jpath *at, const char **out)
{
  if (item == NULL)
    return fail(l, at, "missing");
  if (!cJSON_IsString(item))
    return fail(l, at, "expected a string");
  *out = item->valuestring;
  return 0;
}

static int
get_u64(const struct loader *l, const cJSON *item, const struct jpath *at, uint64_t max,
        uint64_t *out)
{
  if (item == NULL)
    return fail(l, at, "missing");
  if (!cJSON_IsNumber(item))
    return fail(l, at, "expected a number");
  double v = item->valuedouble;
  if (!(v >= 0 && v < 18446744073709551616.0) || (double)(uint64_t)v != v)
    return fail(l, at, "expected an integer from 0 to 2^64-1, got %.17g", v);
  *out = (uint64_t)v;
  if (*out > max)
    return fail(l, at, "%llu is out of range (at most %llu)", (unsigned long long)*out,
                (unsigned long long)max);
  return 0;
}

/* An array, or absent (then of size 0). */
static int
get_array(const struct loader *l, const cJSON *item, const struct jpath *at)
{
  if (item == NULL || cJSON_IsArray(item))
    return 0;
  return fail(l, at, "expected an array");
}

/* ---- actions, operators, capabilities, architectures ---- */

static int
parse_action(const struct loader *l, const cJSON *item, const struct jpath *at,
             const cJSON *errno_item, const struct jpath *errno_at, uint32_t *out)
{
  const char *name = NULL;
  if (get_string(l, item, at, &name) < 0)
    return -1;
  unsigned n = sizeof actions / sizeof actions[0];
  unsigned i = 0;
  while (i < n && strcmp(actions[i].name, name) != 0)
    i++;
  if (i == n) {
    char known[256] = "";
    for (unsigned k = 0; k < n; k++)
      snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", k ? ", " : "",
               actions[k].name);
    return fail(l, at, "unknown action \"%s\"; use one of %s", name, known);
  }
  bool is_errno = strcmp(name, "SCMP_ACT_ERRNO") == 0;
  if (errno_item != NULL && !is_errno)
    return fail(l, errno_at, "only SCMP_ACT_ERRNO takes an errno, not %s", name);
  if (!is_errno) {
    *out = actions[i].action;
    return 0;
  }
  uint64_t e = EPERM; /* the runtime spec's default */
  if (errno_item != NULL && get_u64(l, errno_item, errno_at, 4095, &e) < 0)
    return -1;
  *out = SCMP_ACT_ERRNO((uint32_t)e);
  return 0;
}

static int
parse_operator(const struct loader *l, const cJSON *item, const struct jpath *at,
               enum scmp_compare *out)
{
  const char *name = NULL;
  if (get_string(l, item, at, &name) < 0)
    return -1;
  for (unsigned i = 0; i < sizeof operators / sizeof operators[0]; i++)
    if (strcmp(operators[i].name, name) == 0) {
      *out = operators[i].op;
      return 0;
    }
  return fail(l, at,
              "unknown operator \"%s\"; use one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, "
              "SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ",
              name);
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token; 0 when libseccomp does not know
 * it (a newer architecture: skipped, as an unknown syscall is). */
static int
parse_scmp_arch(const struct loader *l, const cJSON *item, const struct jpath *at, uint32_t *out)
{
  static const char prefix[] = "SCMP_ARCH_";
  const char *name = NULL;
  if (get_string(l, item, at, &name) < 0)
    return -1;
  if (strncmp(name, prefix, sizeof prefix - 1) != 0)
    return fail(l, at, "\"%s\" is not an architecture; use e.g. SCMP_ARCH_X86_64", name);
  char lower[32];
  snprintf(lower, sizeof lower, "%s", name + sizeof prefix - 1);
  for (char *c = lower; *c; c++)
    *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
  *out = seccomp_arch_resolve_name(lower);
  return 0;
}

static int
add_arch_item(const struct loader *l, const cJSON *item, const struct jpath *at)
{
  uint32_t arch = 0;
  if (parse_scmp_arch(l, item, at, &arch) < 0)
    return -1;
  if (arch != 0 && cab_seccomp_ctx_add_arch(l->ctx, arch, l->err) < 0)
    return cab_error_prefix(l->err, "seccomp profile %s: %s", l->file, at->s);
  return 0;
}

static int
add_arch_list(const struct loader *l, const cJSON *list, const struct jpath *at)
{
  if (get_array(l, list, at) < 0)
    return -1;
  for (int i = 0; i < cJSON_GetArraySize(list); i++) {
    struct jpath item_at = jpath_index(at, i);
    if (add_arch_item(l, cJSON_GetArrayItem(list, i), &item_at) < 0)
      return -1;
  }
  return 0;
}

/* OCI's "architectures", or Docker's "archMap" entry for the host. */
static int
parse_arches(const struct loader *l, const cJSON *root)
{
  struct jpath list_at = jpath_key(&root_path, "architectures");
  struct jpath map_at = jpath_key(&root_path, "archMap");
  const cJSON *list = member(root, "architectures"), *map = member(root, "archMap");
  if (add_arch_list(l, list, &list_at) < 0 || get_array(l, map, &map_at) < 0)
    return -1;
  if (cJSON_GetArraySize(list) > 0 && cJSON_GetArraySize(map) > 0)
    return fail(l, &map_at, "give either \"architectures\" or \"archMap\", not both");
  for (int i = 0; i < cJSON_GetArraySize(map); i++) {
    const cJSON *entry = cJSON_GetArrayItem(map, i);
    struct jpath entry_at = jpath_index(&map_at, i);
    struct jpath arch_at = jpath_key(&entry_at, "architecture");
    struct jpath subs_at = jpath_key(&entry_at, "subArchitectures");
    uint32_t arch = 0;
    if (!cJSON_IsObject(entry))
      return fail(l, &entry_at, "expected an object");
    if (parse_scmp_arch(l, member(entry, "architecture"), &arch_at, &arch) < 0)
      return -1;
    if (arch == 0 || arch != seccomp_arch_native())
      continue;
    if (add_arch_list(l, member(entry, "subArchitectures"), &subs_at) < 0)
      return -1;
  }
  return 0;
}

static int
parse_caps(const struct loader *l, const cJSON *list, const struct jpath *at, uint64_t *out)
{
  if (get_array(l, list, at) < 0)
    return -1;
  for (int i = 0; i < cJSON_GetArraySize(list); i++) {
    struct jpath item_at = jpath_index(at, i);
    const char *name = NULL;
    if (get_string(l, cJSON_GetArrayItem(list, i), &item_at, &name) < 0)
      return -1;
    cap_value_t cap;
    if (strncmp(name, "CAP_", 4) != 0 || cap_from_name(name, &cap) < 0 || cap < 0 || cap > 63)
      return fail(l, &item_at, "unknown capability \"%s\"", name);
    *out |= CAB_CAP(cap);
  }
  return 0;
}

static int
parse_rule_arches(const struct loader *l, const cJSON *list, const struct jpath *at,
                  unsigned *out)
{
  if (get_array(l, list, at) < 0)
    return -1;
  for (int i = 0; i < cJSON_GetArraySize(list); i++) {
    struct jpath item_at = jpath_index(at, i);
    const char *name = NULL;
    if (get_string(l, cJSON_GetArrayItem(list, i), &item_at, &name) < 0)
      return -1;
    unsigned bit = cab_seccomp_arch_bit_by_name(name);
    if (bit == 0)
      return fail(l, &item_at,
                  "unknown architecture \"%s\"; use Docker's names (amd64, x86, x32, arm, "
                  "arm64, ppc64le, s390, s390x, riscv64, ...)",
                  name);
    *out |= bit;
  }
  return 0;
}

/* "includes" or "excludes". */
static int
parse_when(const struct loader *l, const cJSON *when, const struct jpath *at,
           struct cab_seccomp_when *out)
{
  if (when == NULL)
    return 0;
  if (!cJSON_IsObject(when))
    return fail(l, at, "expected an object");
  struct jpath caps_at = jpath_key(at, "caps"), arches_at = jpath_key(at, "arches");
  struct jpath kernel_at = jpath_key(at, "minKernel");
  if (parse_caps(l, member(when, "caps"), &caps_at, &out->caps) < 0 ||
      parse_rule_arches(l, member(when, "arches"), &arches_at, &out->arches) < 0)
    return -1;
  const cJSON *min_kernel = member(when, "minKernel");
  if (min_kernel == NULL)
    return 0;
  unsigned major, minor;
  if (get_string(l, min_kernel, &kernel_at, &out->min_kernel) < 0)
    return -1;
  if (!cab_seccomp_parse_kernel_version(out->min_kernel, &major, &minor))
    return fail(l, &kernel_at, "\"%s\" is not a kernel version like \"4.8\"", out->min_kernel);
  return 0;
}

static int
parse_arg(const struct loader *l, const cJSON *arg, const struct jpath *at,
          struct scmp_arg_cmp *cmp)
{
  if (!cJSON_IsObject(arg))
    return fail(l, at, "expected an object");
  struct jpath index_at = jpath_key(at, "index"), value_at = jpath_key(at, "value");
  struct jpath two_at = jpath_key(at, "valueTwo"), op_at = jpath_key(at, "op");
  uint64_t index = 0;
  if (get_u64(l, member(arg, "index"), &index_at, 5, &index) < 0 ||
      get_u64(l, member(arg, "value"), &value_at, UINT64_MAX, &cmp->datum_a) < 0)
    return -1;
  /* For SCMP_CMP_MASKED_EQ, value is the mask and valueTwo the expected
   * value: libseccomp's datum_a and datum_b. */
  const cJSON *two = member(arg, "valueTwo");
  cmp->datum_b = 0;
  if (two != NULL && get_u64(l, two, &two_at, UINT64_MAX, &cmp->datum_b) < 0)
    return -1;
  if (parse_operator(l, member(arg, "op"), &op_at, &cmp->op) < 0)
    return -1;
  cmp->arg = (unsigned)index;
  return 0;
}

static int
parse_args(const struct loader *l, const cJSON *args, const struct jpath *at,
           struct cab_seccomp_rule *rule)
{
  if (get_array(l, args, at) < 0)
    return -1;
  int n = cJSON_GetArraySize(args);
  if (n > 6)
    return fail(l, at, "%d conditions; a syscall has at most 6 arguments", n);
  for (int k = 0; k < n; k++) {
    struct jpath arg_at = jpath_index(at, k);
    if (parse_arg(l, cJSON_GetArrayItem(args, k), &arg_at, &rule->args[k]) < 0)
      return -1;
    for (int j = 0; j < k; j++)
      if (rule->args[j].arg == rule->args[k].arg)
        return fail(l, &arg_at,
                    "a second condition on argument %u; libseccomp takes one per argument "
                    "(write a second rule)",
                    rule->args[k].arg);
  }
  rule->n_args = (unsigned)n;
  return 0;
}

/* "names", or the older single "name"; *OUT is NULL-terminated. */
static int
parse_names(const struct loader *l, const cJSON *rule, const struct jpath *at, const char ***out)
{
  const cJSON *names = member(rule, "names"), *name = member(rule, "name");
  if (names != NULL && name != NULL)
    return fail(l, at, "give either \"name\" or \"names\", not both");
  if (names == NULL && name == NULL)
    return fail(l, at, "no \"names\"");
  struct jpath names_at = jpath_key(at, name != NULL ? "name" : "names");
  if (name == NULL && get_array(l, names, &names_at) < 0)
    return -1;
  int n = name != NULL ? 1 : cJSON_GetArraySize(names);
  const char **list = calloc((size_t)n + 1, sizeof *list);
  if (list == NULL)
    return cab_error_sys(l->err, "calloc");
  *out = list;
  if (name != NULL)
    return get_string(l, name, &names_at, &list[0]);
  for (int k = 0; k < n; k++) {
    struct jpath item_at = jpath_index(&names_at, k);
    if (get_string(l, cJSON_GetArrayItem(names, k), &item_at, &list[k]) < 0)
      return -1;
  }
  return 0;
}

static int
parse_syscall(const struct loader *l, const cJSON *item, const struct jpath *at)
{
  if (!cJSON_IsObject(item))
    return fail(l, at, "expected an object");
  cleanup_free const char **names = NULL;
  if (parse_names(l, item, at, &names) < 0)
    return -1;
  struct cab_seccomp_rule rule = {.names = names};
  struct jpath action_at = jpath_key(at, "action"), errno_at = jpath_key(at, "errnoRet");
  struct jpath args_at = jpath_key(at, "args");
  struct jpath includes_at = jpath_key(at, "includes"), excludes_at = jpath_key(at, "excludes");
  if (parse_action(l, member(item, "action"), &action_at, member(item, "errnoRet"), &errno_at,
                   &rule.action) < 0 ||
      parse_args(l, member(item, "args"), &args_at, &rule) < 0 ||
      parse_when(l, member(item, "includes"), &includes_at, &rule.includes) < 0 ||
      parse_when(l, member(item, "excludes"), &excludes_at, &rule.excludes) < 0)
    return -1;
  if (cab_seccomp_ctx_add_rule(l->ctx, &rule, l->err) < 0)
    return cab_error_prefix(l->err, "seccomp profile %s: %s", l->file, at->s);
  return 0;
}

static int
parse_profile(const struct loader *l, const cJSON *root, uint64_t caps)
{
  if (!cJSON_IsObject(root))
    return cab_error_set(l->err, 0, "seccomp profile %s: expected a JSON object", l->file);
  struct jpath def_at = jpath_key(&root_path, "defaultAction");
  struct jpath def_errno_at = jpath_key(&root_path, "defaultErrnoRet");
  struct jpath syscalls_at = jpath_key(&root_path, "syscalls");
  uint32_t action = 0;
  if (parse_action(l, member(root, "defaultAction"), &def_at, member(root, "defaultErrnoRet"),
                   &def_errno_at, &action) < 0)
    return -1;
  if (cab_seccomp_ctx_init(l->ctx, action, caps, l->err) < 0 || parse_arches(l, root) < 0)
    return -1;
  const cJSON *syscalls = member(root, "syscalls");
  if (get_array(l, syscalls, &syscalls_at) < 0)
    return -1;
  for (int i = 0; i < cJSON_GetArraySize(syscalls); i++) {
    struct jpath item_at = jpath_index(&syscalls_at, i);
    if (parse_syscall(l, cJSON_GetArrayItem(syscalls, i), &item_at) < 0)
      return -1;
  }
  return 0;
}

/* ---- the file ---- */

static int
json_syntax_error(const char *path, const char *text, const char *at, cab_error *err)
{
  unsigned line = 1, column = 1;
  for (const char *c = text; at != NULL && c < at && *c; c++) {
    if (*c == '\n') {
      line++;
      column = 1;
    } else {
      column++;
    }
  }
  return cab_error_set(err, 0, "seccomp profile %s: invalid JSON at line %u, column %u", path,
                       line, column);
}

int
cab_seccomp_json_profile(struct cab_seccomp_ctx *ctx, const char *path, uint64_t caps,
                         cab_error *err)
{
  cleanup_free char *text = NULL;
  if (cab_read_file(AT_FDCWD, path, PROFILE_MAX_BYTES, CAB_READ_REGULAR | CAB_READ_WHOLE, &text,
                    NULL, NULL, err) < 0)
    return cab_error_prefix(err, "seccomp profile %s", path);
  const char *end = NULL;
  cleanup_cjson cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
  if (root == NULL)
    return json_syntax_error(path, text, end, err);
  struct loader l = {.file = path, .ctx = ctx, .err = err};
  return parse_profile(&l, root, caps);
}
