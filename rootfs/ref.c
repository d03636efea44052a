#include "rootfs/ref.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool
is_lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | -+ */
static bool
valid_path_component(const char *s, size_t len)
{
  if (len == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
    return false;
  for (size_t i = 0; i < len;) {
    if (is_lower_alnum(s[i])) {
      i++;
      continue;
    }
    size_t j = i;
    while (j < len && !is_lower_alnum(s[j]))
      j++;
    size_t n = j - i;
    bool ok = (n == 1 && (s[i] == '.' || s[i] == '_' || s[i] == '-')) ||
              (n == 2 && s[i] == '_' && s[i + 1] == '_');
    if (!ok) {
      ok = true;
      for (size_t k = i; k < j; k++)
        if (s[k] != '-')
          ok = false;
    }
    if (!ok)
      return false;
    i = j;
  }
  return true;
}

/* domain := component ('.' component)* [':' port]; component := [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])? */
static bool
valid_domain(const char *s, size_t len)
{
  const char *colon = memchr(s, ':', len);
  size_t host_len = colon ? (size_t)(colon - s) : len;
  if (host_len == 0)
    return false;
  size_t start = 0;
  for (size_t i = 0; i <= host_len; i++) {
    if (i < host_len && s[i] != '.') {
      if (!isalnum((unsigned char)s[i]) && s[i] != '-')
        return false;
      continue;
    }
    if (i == start || s[start] == '-' || s[i - 1] == '-')
      return false;
    start = i + 1;
  }
  if (colon) {
    size_t plen = len - host_len - 1;
    if (plen == 0 || plen > 5)
      return false;
    for (size_t i = host_len + 1; i < len; i++)
      if (!isdigit((unsigned char)s[i]))
        return false;
  }
  return true;
}

/* tag := [\w][\w.-]{0,127} */
static bool
valid_tag(const char *s)
{
  size_t len = strlen(s);
  if (len == 0 || len > 128)
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    bool word = isalnum((unsigned char)c) || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-')))
      return false;
  }
  return true;
}

int
cab_ref_parse(const char *text, cab_ref *ref, cab_error *err)
{
  memset(ref, 0, sizeof *ref);
  if (text == NULL || *text == '\0')
    return cab_error_set(err, 0, "empty image reference");
  if (strlen(text) > 600)
    return cab_error_set(err, 0, "image reference too long: '%.60s...'", text);

  char buf[601];
  snprintf(buf, sizeof buf, "%s", text);

  char *at = strchr(buf, '@');
  if (at) {
    *at = '\0';
    if (!cab_digest_valid(at + 1))
      return cab_error_set(err, 0,
                           "reference '%.300s': invalid digest '%.80s'; expected sha256: and 64 "
                           "lowercase hex digits",
                           text, at + 1);
    snprintf(ref->digest, sizeof ref->digest, "%s", at + 1);
  }
  char *slash = strrchr(buf, '/');
  char *colon = strrchr(slash ? slash : buf, ':');
  if (colon) {
    *colon = '\0';
    if (!valid_tag(colon + 1))
      return cab_error_set(err, 0,
                           "reference '%.300s': invalid tag '%.140s' (letters, digits, _ . -; "
                           "at most 128)",
                           text, colon + 1);
    snprintf(ref->tag, sizeof ref->tag, "%s", colon + 1);
  }

  /* Split off the domain as Docker does: the first component is a domain when
   * it has a '.' or a ':', is "localhost", or has upper-case letters. */
  const char *rest = buf;
  char *first = strchr(buf, '/');
  if (first) {
    size_t n = (size_t)(first - buf);
    bool upper = false;
    for (size_t i = 0; i < n; i++)
      if (isupper((unsigned char)buf[i]))
        upper = true;
    if (memchr(buf, '.', n) || memchr(buf, ':', n) || (n == 9 && memcmp(buf, "localhost", 9) == 0) ||
        upper) {
      if (!valid_domain(buf, n))
        return cab_error_set(err, 0, "reference '%.300s': invalid registry host '%.*s'",
                             text, (int)(n > 255 ? 255 : n), buf);
      snprintf(ref->domain, sizeof ref->domain, "%.*s", (int)n, buf);
      rest = first + 1;
    }
  }
  if (ref->domain[0] == '\0' || strcmp(ref->domain, "index.docker.io") == 0)
    snprintf(ref->domain, sizeof ref->domain, "docker.io");

  if (*rest == '\0')
    return cab_error_set(err, 0, "reference '%.300s': missing repository name", text);
  for (const char *p = rest;;) {
    const char *e = strchr(p, '/');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (!valid_path_component(p, n))
      return cab_error_set(err, 0,
                           "reference '%.300s': invalid repository name component '%.*s' "
                           "(lower-case letters, digits and separators . _ __ -)",
                           text, (int)(n > 200 ? 200 : n), p);
    if (!e)
      break;
    p = e + 1;
  }
  bool library = strcmp(ref->domain, "docker.io") == 0 && strchr(rest, '/') == NULL;
  int n = snprintf(ref->path, sizeof ref->path, "%s%s", library ? "library/" : "", rest);
  if (n < 0 || strlen(ref->domain) + 1 + (size_t)n > CAB_REF_NAME_MAX)
    return cab_error_set(err, 0, "reference '%.300s': name longer than %d characters", text,
                         CAB_REF_NAME_MAX);
  if (ref->tag[0] == '\0' && ref->digest[0] == '\0')
    snprintf(ref->tag, sizeof ref->tag, "latest");
  return 0;
}

void
cab_ref_name(const cab_ref *ref, char *buf, size_t size)
{
  snprintf(buf, size, "%s/%s", ref->domain, ref->path);
}

void
cab_ref_string(const cab_ref *ref, char *buf, size_t size)
{
  if (ref->digest[0])
    snprintf(buf, size, "%s/%s@%s", ref->domain, ref->path, ref->digest);
  else
    snprintf(buf, size, "%s/%s:%s", ref->domain, ref->path, ref->tag);
}

void
cab_ref_familiar(const char *name, char *buf, size_t size)
{
  const char *p = name;
  if (strncmp(p, "docker.io/library/", 18) == 0 && strchr(p + 18, '/') == NULL)
    p += 18;
  else if (strncmp(p, "docker.io/", 10) == 0)
    p += 10;
  snprintf(buf, size, "%s", p);
}

const char *
cab_ref_registry_host(const cab_ref *ref)
{
  if (strcmp(ref->domain, "docker.io") == 0)
    return "registry-1.docker.io";
  return ref->domain;
}
