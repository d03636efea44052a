/* Platforms ("linux/amd64/v8") and choosing one from an index. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "rootfs/manifest.h"
#include "common/strfmt.h"

void
cab_platform_host(cab_platform *p)
{
  memset(p, 0, sizeof *p);
  snprintf(p->os, sizeof p->os, "linux");
  struct utsname u;
  const char *m = uname(&u) == 0 ? u.machine : "x86_64";
  static const struct {
    const char *machine, *arch, *variant;
  } map[] = {
      {"x86_64", "amd64", ""},   {"aarch64", "arm64", "v8"}, {"arm64", "arm64", "v8"},
      {"armv7l", "arm", "v7"},   {"armv6l", "arm", "v6"},    {"i686", "386", ""},
      {"i386", "386", ""},       {"ppc64le", "ppc64le", ""}, {"s390x", "s390x", ""},
      {"riscv64", "riscv64", ""}, {"mips64", "mips64le", ""},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(m, map[i].machine) == 0) {
      snprintf(p->architecture, sizeof p->architecture, "%s", map[i].arch);
      snprintf(p->variant, sizeof p->variant, "%s", map[i].variant);
      return;
    }
  snprintf(p->architecture, sizeof p->architecture, "%s", m);
}

int
cab_platform_parse(const char *text, cab_platform *p, cab_error *err)
{
  if (text == NULL || *text == '\0') {
    cab_platform_host(p);
    return 0;
  }
  memset(p, 0, sizeof *p);
  char buf[128];
  if (strlen(text) >= sizeof buf)
    return cab_error_set(err, 0, "platform '%.60s...' is too long", text);
  snprintf(buf, sizeof buf, "%s", text);
  char *parts[4] = {0};
  int n = 0;
  for (char *save = NULL, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
    if (n == 3)
      return cab_error_set(err, 0, "platform '%s': expected OS/ARCH[/VARIANT]", text);
    parts[n++] = t;
  }
  if (n < 2)
    return cab_error_set(err, 0, "platform '%s': expected OS/ARCH[/VARIANT], e.g. linux/amd64",
                         text);
  for (int i = 0; i < n; i++)
    for (const char *c = parts[i]; *c; c++)
      if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
        return cab_error_set(err, 0, "platform '%s': unexpected character '%c'", text, *c);
  if (strlen(parts[0]) >= sizeof p->os || strlen(parts[1]) >= sizeof p->architecture ||
      (parts[2] && strlen(parts[2]) >= sizeof p->variant))
    return cab_error_set(err, 0, "platform '%s': a part is too long", text);
  snprintf(p->os, sizeof p->os, "%s", parts[0]);
  snprintf(p->architecture, sizeof p->architecture, "%s", parts[1]);
  snprintf(p->variant, sizeof p->variant, "%s", parts[2] ? parts[2] : "");
  if (strcmp(p->architecture, "aarch64") == 0)
    snprintf(p->architecture, sizeof p->architecture, "arm64");
  if (strcmp(p->architecture, "x86_64") == 0)
    snprintf(p->architecture, sizeof p->architecture, "amd64");
  return 0;
}

void
cab_platform_string(const cab_platform *p, char *buf, size_t size)
{
  /* For messages and listings: a cut is harmless there. */
  cab_snprintf_cut(buf, size, "%s/%s%s%s", p->os, p->architecture, p->variant[0] ? "/" : "",
                   p->variant);
}

/* arm64 without a variant means v8. */
static const char *
norm_variant(const cab_platform *p)
{
  if (strcmp(p->architecture, "arm64") == 0 && p->variant[0] == '\0')
    return "v8";
  return p->variant;
}

bool
cab_platform_match(const cab_platform *want, const cab_platform *have)
{
  if (strcmp(want->os, have->os) != 0 || strcmp(want->architecture, have->architecture) != 0)
    return false;
  const char *wv = norm_variant(want);
  return wv[0] == '\0' || strcmp(wv, norm_variant(have)) == 0;
}

int
cab_index_select(const cab_manifest *index, const cab_platform *want, const cab_descriptor **out,
                 cab_error *err)
{
  *out = NULL;
  for (size_t i = 0; i < index->n_manifests; i++) {
    const cab_descriptor *d = &index->manifests[i];
    if (!d->has_platform || !cab_mt_is_manifest(d->media_type))
      continue;
    if (cab_platform_match(want, &d->platform)) {
      *out = d;
      return 0;
    }
  }
  /* An entry that is itself an index (an index of indexes): cab does not
   * follow them, and says so instead of "no manifest for linux/amd64 (it
   * has: linux/amd64)". */
  for (size_t i = 0; i < index->n_manifests; i++) {
    const cab_descriptor *d = &index->manifests[i];
    bool for_want = !d->has_platform || cab_platform_match(want, &d->platform);
    if (cab_mt_is_index(d->media_type) && for_want)
      return cab_error_set(err, 0, "the index's entry %s is itself an image index: nested image "
                                   "indexes are not supported; pull that inner index by its "
                                   "digest (NAME@DIGEST), or flatten the image (skopeo copy --all)",
                           d->digest);
  }
  char have[600] = "";
  size_t used = 0;
  for (size_t i = 0; i < index->n_manifests && used + 40 < sizeof have; i++) {
    const cab_descriptor *d = &index->manifests[i];
    if (!d->has_platform || !cab_mt_is_manifest(d->media_type))
      continue;
    char p[100];
    cab_platform_string(&d->platform, p, sizeof p);
    used += (size_t)snprintf(have + used, sizeof have - used, "%s%s", used ? ", " : "", p);
  }
  char w[100];
  cab_platform_string(want, w, sizeof w);
  return cab_error_set(err, 0, "no manifest for platform %s in the index (it has: %s)", w,
                       have[0] ? have : "none");
}
