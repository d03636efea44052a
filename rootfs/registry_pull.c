/* cab pull: resolve a reference on its registry, verify every document and
 * blob against the digest that named it, stage, commit, tag. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strfmt.h"
#include "common/cleanup.h"
#include "rootfs/registry.h"

struct pull {
  cab_store *store;
  cab_registry *reg;
  cab_stage *stage;
  cab_ref ref;
  cab_platform want;
  bool explicit_platform;
  char top_digest[CAB_DIGEST_LEN + 1];   /* what the tag or digest named */
  char index_digest[CAB_DIGEST_LEN + 1]; /* when that was an index */
  cab_descriptor mdesc;                  /* the platform manifest */
  cab_manifest *manifest;
  cab_image_config *config;
};

static int
get_manifest(struct pull *p, const char *reference, const char *expect, char **body, size_t *len,
             char *digest, cab_manifest **m, const char *desc_type, cab_error *err)
{
  char ctype[128], dcd[CAB_DIGEST_LEN + 1];
  if (cab_registry_manifest(p->reg, reference, body, len, ctype, sizeof ctype, dcd, err) < 0)
    return -1;
  cab_sha256_buffer(*body, *len, digest);
  if (expect && strcmp(digest, expect) != 0)
    return cab_error_set(err, 0, "manifest %s: digest mismatch, the registry's document hashes to %s",
                         expect, digest);
  if (!expect && dcd[0] && strcmp(dcd, digest) != 0)
    return cab_error_set(err, 0, "manifest %s: Docker-Content-Digest says %s but the bytes hash "
                                 "to %s",
                         reference, dcd, digest);
  if (cab_manifest_parse(*body, *len, ctype, m, err) < 0)
    return cab_error_prefix(err, "manifest %s", digest);
  if (desc_type && strcmp((*m)->media_type, desc_type) != 0)
    return cab_error_set(err, 0, "manifest %s: the index says %s but the document is %s", digest,
                         desc_type, (*m)->media_type);
  return 0;
}

static int
resolve(struct pull *p, cab_error *err)
{
  const char *reference = p->ref.digest[0] ? p->ref.digest : p->ref.tag;
  cleanup_free char *body = NULL;
  size_t len;
  cab_manifest *top = NULL;
  if (get_manifest(p, reference, p->ref.digest[0] ? p->ref.digest : NULL, &body, &len,
                   p->top_digest, &top, NULL, err) < 0) {
    cab_manifest_free(top);
    return -1;
  }
  if (top->kind == CAB_DOC_MANIFEST) {
    p->manifest = top;
    snprintf(p->mdesc.media_type, sizeof p->mdesc.media_type, "%s", top->media_type);
    snprintf(p->mdesc.digest, sizeof p->mdesc.digest, "%s", p->top_digest);
    p->mdesc.size = (int64_t)len;
    return cab_stage_put(p->stage, body, len, p->top_digest, NULL, err);
  }
  const cab_descriptor *d;
  int r = cab_index_select(top, &p->want, &d, err);
  if (r == 0) {
    p->mdesc = *d;
    snprintf(p->index_digest, sizeof p->index_digest, "%s", p->top_digest);
    r = cab_stage_put(p->stage, body, len, p->top_digest, NULL, err);
  }
  cab_manifest_free(top);
  if (r < 0)
    return cab_error_prefix(err, "index %s", p->top_digest);
  cleanup_free char *mbody = NULL;
  size_t mlen;
  char got[CAB_DIGEST_LEN + 1];
  if (get_manifest(p, p->mdesc.digest, p->mdesc.digest, &mbody, &mlen, got, &p->manifest,
                   p->mdesc.media_type, err) < 0)
    return -1;
  if ((int64_t)mlen != p->mdesc.size)
    return cab_error_set(err, 0, "manifest %s: %zu bytes, the index says %lld", got, mlen,
                         (long long)p->mdesc.size);
  if (p->manifest->kind != CAB_DOC_MANIFEST)
    return cab_error_set(err, 0, "manifest %s: an index inside an index", got);
  return cab_stage_put(p->stage, mbody, mlen, got, NULL, err);
}

static int
fetch_config(struct pull *p, cab_error *err)
{
  const cab_descriptor *c = &p->manifest->config;
  cleanup_free char *body = NULL;
  if (cab_registry_blob_mem(p->reg, c->digest, c->size, CAB_CONFIG_MAX, &body, err) < 0)
    return -1;
  if (cab_config_parse(body, (size_t)c->size, &p->config, err) < 0)
    return cab_error_prefix(err, "config %s", c->digest);
  if (p->config->n_diff_ids != p->manifest->n_layers)
    return cab_error_set(err, 0, "config %s: %zu diff_ids for %zu layers", c->digest,
                         p->config->n_diff_ids, p->manifest->n_layers);
  if (p->explicit_platform && p->config->platform.os[0] &&
      !cab_platform_match(&p->want, &p->config->platform)) {
    char w[100], h[100];
    cab_platform_string(&p->want, w, sizeof w);
    cab_platform_string(&p->config->platform, h, sizeof h);
    return cab_error_set(err, 0, "the image is for %s, not the requested %s", h, w);
  }
  return cab_stage_put(p->stage, body, (size_t)c->size, c->digest, NULL, err);
}

static int
fetch_layers(struct pull *p, cab_error *err)
{
  cab_descriptor *todo = calloc(p->manifest->n_layers + 1, sizeof *todo);
  if (todo == NULL)
    return cab_error_sys(err, "allocate");
  size_t n = 0;
  for (size_t i = 0; i < p->manifest->n_layers; i++) {
    const cab_descriptor *l = &p->manifest->layers[i];
    bool dup = false;
    for (size_t j = 0; j < n; j++)
      dup = dup || strcmp(todo[j].digest, l->digest) == 0;
    if (!dup && !cab_store_has_blob(p->store, l->digest, l->size) &&
        !cab_stage_has(p->stage, l->digest, l->size))
      todo[n++] = *l;
  }
  int r = cab_registry_blobs(p->reg, p->stage, todo, n, err);
  free(todo);
  return r;
}

static int
commit(struct pull *p, cab_error *err)
{
  size_t nl = p->manifest->n_layers;
  const char **list = calloc(nl + 3, sizeof *list);
  if (list == NULL)
    return cab_error_sys(err, "allocate");
  size_t n = 0;
  for (size_t i = 0; i < nl; i++)
    list[n++] = p->manifest->layers[i].digest;
  list[n++] = p->manifest->config.digest;
  list[n++] = p->mdesc.digest;
  if (p->index_digest[0])
    list[n++] = p->index_digest;
  int r = cab_stage_commit(p->stage, list, n, err);
  free(list);
  if (r < 0)
    return -1;
  cab_store_entry e = {0};
  cab_ref_string(&p->ref, e.name, sizeof e.name);
  e.manifest = p->mdesc;
  e.manifest.has_platform = p->config->platform.os[0] && p->config->platform.architecture[0];
  e.manifest.platform = p->config->platform;
  snprintf(e.index_digest, sizeof e.index_digest, "%s", p->index_digest);
  return cab_store_tag(p->store, &e, err);
}

/* A digest the store already holds completely needs no network. */
static bool
have_locally(struct pull *p)
{
  if (!p->ref.digest[0])
    return false;
  char name[400];
  cab_ref_string(&p->ref, name, sizeof name);
  cab_image *img;
  cab_error ignore = {0};
  if (cab_image_resolve(p->store, name, &img, &ignore) < 0)
    return false;
  bool ok = true;
  for (size_t i = 0; i < img->n_layers; i++)
    ok = ok && cab_store_has_blob(p->store, img->layers[i].digest, img->layers[i].size);
  if (ok && p->explicit_platform)
    ok = cab_platform_match(&p->want, &img->config->platform);
  if (ok) {
    cab_store_entry e = {0};
    ok = cab_store_lookup(p->store, name, &e, &ignore) == 0;
    ok = ok && cab_snprintf_checked(e.name, sizeof e.name, "%s", name) == 0; /* a tag: never cut */
    ok = ok && cab_store_tag(p->store, &e, &ignore) == 0;
  }
  cab_image_free(img);
  return ok;
}

int
cab_pull(cab_store *s, const char *text, const cab_pull_opts *o, char *pinned, size_t size,
         cab_error *err)
{
  struct pull p = {.store = s};
  if (cab_ref_parse(text, &p.ref, err) < 0)
    return -1; /* the message names the reference already */
  int r = cab_platform_parse(o->platform, &p.want, err);
  p.explicit_platform = o->platform && *o->platform;
  if (r == 0)
    r = cab_store_use(s, err);
  char name[400];
  cab_ref_name(&p.ref, name, sizeof name);
  if (r == 0 && have_locally(&p)) {
    snprintf(pinned, size, "%s@%s", name, p.ref.digest);
    return 0;
  }
  cab_registry_opts ro = {.insecure = o->insecure, .progress = o->progress};
  if (r == 0)
    r = cab_registry_new(&p.ref, &ro, &p.reg, err);
  if (r == 0)
    r = cab_stage_new(s, &p.stage, err);
  if (r == 0)
    r = resolve(&p, err);
  if (r == 0)
    r = fetch_config(&p, err);
  if (r == 0)
    r = fetch_layers(&p, err);
  if (r == 0)
    r = commit(&p, err);
  if (r == 0)
    snprintf(pinned, size, "%s@%s", name, p.top_digest);
  cab_stage_free(p.stage);
  cab_manifest_free(p.manifest);
  cab_config_free(p.config);
  cab_registry_free(p.reg);
  if (r < 0)
    return cab_error_prefix(err, "pull %s", text);
  return 0;
}
