/* Unit tests for image documents (rootfs/manifest*.c): OCI and Docker
 * manifests and indexes, platform choice, the image config, and every
 * refusal - manifest/index confusion (CVE-2021-41190), mediaType against
 * Content-Type, schema1, foreign layers, bad digest strings (CVE-2024-3727),
 * duplicate keys. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "rootfs/manifest.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"
#define H4 "4444444444444444444444444444444444444444444444444444444444444444"

#define CONFIG_DESC(mt) "\"config\":{\"mediaType\":\"" mt "\",\"digest\":\"sha256:" H1 "\",\"size\":123}"
#define LAYER(mt, h) "{\"mediaType\":\"" mt "\",\"digest\":\"sha256:" h "\",\"size\":456}"

static const char oci_manifest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" CAB_MT_OCI_MANIFEST "\"," CONFIG_DESC(CAB_MT_OCI_CONFIG)
    ",\"layers\":[" LAYER(CAB_MT_OCI_LAYER_GZIP, H2) "," LAYER(CAB_MT_OCI_LAYER_ZSTD, H3) "]}";

static const char docker_manifest[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" CAB_MT_DOCKER_MANIFEST
    "\"," CONFIG_DESC(CAB_MT_DOCKER_CONFIG) ",\"layers\":[" LAYER(CAB_MT_DOCKER_LAYER_GZIP, H2) "]}";

#define PLAT_ENTRY(mt, h, arch, extra)                                                           \
  "{\"mediaType\":\"" mt "\",\"digest\":\"sha256:" h "\",\"size\":789,\"platform\":{"            \
  "\"architecture\":\"" arch "\",\"os\":\"linux\"" extra "}}"

static const char oci_index[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" CAB_MT_OCI_INDEX "\",\"manifests\":["
    PLAT_ENTRY(CAB_MT_OCI_MANIFEST, H1, "amd64", "") ","
    PLAT_ENTRY(CAB_MT_OCI_MANIFEST, H2, "arm64", ",\"variant\":\"v8\"") ","
    PLAT_ENTRY(CAB_MT_OCI_MANIFEST, H3, "arm", ",\"variant\":\"v7\"") ","
    "{\"mediaType\":\"" CAB_MT_OCI_MANIFEST "\",\"digest\":\"sha256:" H4 "\",\"size\":1,"
    "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}]}";

static const char docker_list[] =
    "{\"schemaVersion\":2,\"mediaType\":\"" CAB_MT_DOCKER_LIST "\",\"manifests\":["
    PLAT_ENTRY(CAB_MT_DOCKER_MANIFEST, H1, "amd64", "") ","
    PLAT_ENTRY(CAB_MT_DOCKER_MANIFEST, H2, "arm64", "") "]}";

static cab_manifest *
parse_ok(const char *doc, const char *ctype)
{
  cab_manifest *m = NULL;
  cab_error err = {0};
  if (cab_manifest_parse(doc, strlen(doc), ctype, &m, &err) != 0)
    fail_msg("document did not parse: %s\n%s", err.message, doc);
  return m;
}

static void
parse_bad(const char *doc, const char *ctype, const char *needle)
{
  cab_manifest *m = NULL;
  cab_error err = {0};
  if (cab_manifest_parse(doc, strlen(doc), ctype, &m, &err) == 0) {
    cab_manifest_free(m);
    fail_msg("document parsed but must be refused:\n%s", doc);
  }
  assert_null(m);
  if (needle && strstr(err.message, needle) == NULL)
    fail_msg("error lacks '%s': %s", needle, err.message);
}

static void
test_oci_manifest(void **state)
{
  cab_manifest *m = parse_ok(oci_manifest, CAB_MT_OCI_MANIFEST);
  assert_int_equal(m->kind, CAB_DOC_MANIFEST);
  assert_string_equal(m->media_type, CAB_MT_OCI_MANIFEST);
  assert_string_equal(m->config.digest, "sha256:" H1);
  assert_int_equal(m->config.size, 123);
  assert_int_equal(m->n_layers, 2);
  assert_string_equal(m->layers[1].media_type, CAB_MT_OCI_LAYER_ZSTD);
  assert_int_equal(m->layers[1].size, 456);
  cab_manifest_free(m);
  /* Content-Type parameters are ignored; an unknown/absent one is fine. */
  cab_manifest_free(parse_ok(oci_manifest, CAB_MT_OCI_MANIFEST "; charset=utf-8"));
  cab_manifest_free(parse_ok(oci_manifest, NULL));
  cab_manifest_free(parse_ok(oci_manifest, "application/octet-stream"));
  /* No mediaType field: classified by the transport's type or the shape. */
  const char *bare = "{\"schemaVersion\":2," CONFIG_DESC(CAB_MT_OCI_CONFIG) ",\"layers\":[]}";
  m = parse_ok(bare, NULL);
  assert_string_equal(m->media_type, CAB_MT_OCI_MANIFEST);
  cab_manifest_free(m);
}

static void
test_docker_manifest(void **state)
{
  cab_manifest *m = parse_ok(docker_manifest, CAB_MT_DOCKER_MANIFEST);
  assert_int_equal(m->kind, CAB_DOC_MANIFEST);
  assert_string_equal(m->media_type, CAB_MT_DOCKER_MANIFEST);
  assert_string_equal(m->layers[0].media_type, CAB_MT_DOCKER_LAYER_GZIP);
  cab_manifest_free(m);
  /* Docker types must say what they are. */
  const char *no_mt = "{\"schemaVersion\":2," CONFIG_DESC(CAB_MT_DOCKER_CONFIG) ",\"layers\":[]}";
  parse_bad(no_mt, CAB_MT_DOCKER_MANIFEST, "without a mediaType");
}

static void
test_indexes_and_platforms(void **state)
{
  cab_manifest *m = parse_ok(oci_index, CAB_MT_OCI_INDEX);
  assert_int_equal(m->kind, CAB_DOC_INDEX);
  assert_int_equal(m->n_manifests, 4);
  cab_platform p;
  const cab_descriptor *d;
  cab_error err = {0};
  assert_int_equal(cab_platform_parse("linux/amd64", &p, &err), 0);
  assert_int_equal(cab_index_select(m, &p, &d, &err), 0);
  assert_string_equal(d->digest, "sha256:" H1);
  assert_int_equal(cab_platform_parse("linux/arm64", &p, &err), 0);
  assert_int_equal(cab_index_select(m, &p, &d, &err), 0);
  assert_string_equal(d->digest, "sha256:" H2);
  assert_int_equal(cab_platform_parse("linux/arm/v7", &p, &err), 0);
  assert_int_equal(cab_index_select(m, &p, &d, &err), 0);
  assert_string_equal(d->digest, "sha256:" H3);
  assert_int_equal(cab_platform_parse("linux/arm/v6", &p, &err), 0);
  assert_int_equal(cab_index_select(m, &p, &d, &err), -1);
  assert_non_null(strstr(err.message, "linux/arm/v6"));
  assert_non_null(strstr(err.message, "linux/amd64, linux/arm64/v8, linux/arm/v7"));
  assert_int_equal(cab_platform_parse("linux/s390x", &p, &err), 0);
  assert_int_equal(cab_index_select(m, &p, &d, &err), -1);
  cab_manifest_free(m);

  m = parse_ok(docker_list, CAB_MT_DOCKER_LIST);
  assert_int_equal(m->kind, CAB_DOC_INDEX);
  assert_int_equal(cab_platform_parse("linux/arm64/v8", &p, &err), 0); /* v8 == no variant */
  assert_int_equal(cab_index_select(m, &p, &d, &err), 0);
  assert_string_equal(d->digest, "sha256:" H2);
  cab_manifest_free(m);

  /* The host's platform is something sensible. */
  cab_platform_host(&p);
  assert_string_equal(p.os, "linux");
  assert_true(p.architecture[0] != '\0');
  char buf[100];
  cab_platform_string(&p, buf, sizeof buf);
  assert_non_null(strstr(buf, "linux/"));
}

static void
test_platform_parse(void **state)
{
  cab_platform p;
  cab_error err = {0};
  assert_int_equal(cab_platform_parse("linux/x86_64", &p, &err), 0);
  assert_string_equal(p.architecture, "amd64");
  assert_int_equal(cab_platform_parse("linux", &p, &err), -1);
  assert_int_equal(cab_platform_parse("linux/amd64/v1/x", &p, &err), -1);
  assert_int_equal(cab_platform_parse("linux/AMD64", &p, &err), -1);
  assert_int_equal(cab_platform_parse("linux/../x", &p, &err), -1);
  assert_int_equal(cab_platform_parse(NULL, &p, &err), 0);
}

/* CVE-2021-41190: one document must not read as both an index and a manifest. */
static void
test_confusion(void **state)
{
  const char *both = "{\"schemaVersion\":2,\"mediaType\":\"" CAB_MT_OCI_MANIFEST "\","
                     CONFIG_DESC(CAB_MT_OCI_CONFIG) ",\"layers\":[],\"manifests\":["
                     PLAT_ENTRY(CAB_MT_OCI_MANIFEST, H1, "amd64", "") "]}";
  parse_bad(both, CAB_MT_OCI_MANIFEST, "CVE-2021-41190");
  parse_bad(both, CAB_MT_OCI_INDEX, "CVE-2021-41190");
  parse_bad(both, NULL, "CVE-2021-41190");
  const char *idx_cfg = "{\"schemaVersion\":2," CONFIG_DESC(CAB_MT_OCI_CONFIG) ",\"manifests\":[]}";
  parse_bad(idx_cfg, CAB_MT_OCI_INDEX, "CVE-2021-41190");
  /* mediaType against Content-Type */
  parse_bad(oci_manifest, CAB_MT_OCI_INDEX, "does not match its Content-Type");
  parse_bad(oci_index, CAB_MT_OCI_MANIFEST, "does not match its Content-Type");
  parse_bad(docker_manifest, CAB_MT_OCI_MANIFEST, "does not match");
  /* A manifest type with an index's fields and the reverse. */
  const char *mt_idx = "{\"schemaVersion\":2,\"mediaType\":\"" CAB_MT_OCI_MANIFEST "\","
                       "\"manifests\":[]}";
  parse_bad(mt_idx, NULL, "lacks 'config' or 'layers'");
  const char *idx_mt = "{\"schemaVersion\":2,\"mediaType\":\"" CAB_MT_OCI_INDEX "\","
                       CONFIG_DESC(CAB_MT_OCI_CONFIG) ",\"layers\":[]}";
  parse_bad(idx_mt, NULL, "has no 'manifests'");
}

static void
test_refusals(void **state)
{
  parse_bad("{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"y\",\"fsLayers\":[]}", NULL, "schema1");
  parse_bad("{\"schemaVersion\":2}", "application/vnd.docker.distribution.manifest.v1+prettyjws",
            "schema1");
  parse_bad("{\"schemaVersion\":3," CONFIG_DESC(CAB_MT_OCI_CONFIG) ",\"layers\":[]}", NULL,
            "schemaVersion");
  parse_bad("{\"schemaVersion\":2,\"mediaType\":\"application/x-foo\",\"layers\":[],"
            CONFIG_DESC(CAB_MT_OCI_CONFIG) "}",
            NULL, "unsupported manifest media type");
  /* foreign layers, by type or by urls */
  const char *foreign = "{\"schemaVersion\":2,\"mediaType\":\"" CAB_MT_DOCKER_MANIFEST "\","
                        CONFIG_DESC(CAB_MT_DOCKER_CONFIG) ",\"layers\":[" LAYER(
                            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", H2) "]}";
  parse_bad(foreign, NULL, "foreign");
  const char *urls = "{\"schemaVersion\":2," CONFIG_DESC(CAB_MT_OCI_CONFIG)
                     ",\"layers\":[{\"mediaType\":\"" CAB_MT_OCI_LAYER_GZIP "\",\"digest\":\"sha256:" H2
                     "\",\"size\":1,\"urls\":[\"http://169.254.169.254/x\"]}]}";
  parse_bad(urls, NULL, "urls");
  const char *unknown_layer = "{\"schemaVersion\":2," CONFIG_DESC(CAB_MT_OCI_CONFIG) ",\"layers\":["
                              LAYER("application/x-tar-lzma", H2) "]}";
  parse_bad(unknown_layer, NULL, "unsupported media type");
  const char *artifact = "{\"schemaVersion\":2," CONFIG_DESC("application/vnd.cncf.helm.config.v1+json")
                         ",\"layers\":[]}";
  parse_bad(artifact, NULL, "not an image config");
  /* JSON hygiene */
  parse_bad("{\"schemaVersion\":2,\"schemaVersion\":2," CONFIG_DESC(CAB_MT_OCI_CONFIG)
            ",\"layers\":[]}",
            NULL, "duplicate key");
  parse_bad("{\"schemaVersion\":2," CONFIG_DESC(CAB_MT_OCI_CONFIG) ",\"layers\":[]} {}", NULL,
            "trailing");
  parse_bad("[1,2]", NULL, "not a JSON object");
  parse_bad("{\"schemaVersion\":2,", NULL, "not valid JSON");
  parse_bad("", NULL, "not valid JSON");
}

/* CVE-2024-3727: every digest string is validated before use. */
static void
test_bad_digests(void **state)
{
  static const char *const bad[] = {
      "sha256:../../../../etc/passwd",
      "sha256:" H1 "/../x",
      "sha256:" H1 "0",
      "sha256:1111",
      "SHA256:" H1,
      "sha512:" H1 H1,
      "sha256:111111111111111111111111111111111111111111111111111111111111111G",
      "",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char doc[1024];
    snprintf(doc, sizeof doc,
             "{\"schemaVersion\":2," CONFIG_DESC(CAB_MT_OCI_CONFIG)
             ",\"layers\":[{\"mediaType\":\"" CAB_MT_OCI_LAYER_GZIP "\",\"digest\":\"%s\",\"size\":1}]}",
             bad[i]);
    parse_bad(doc, NULL, "invalid digest");
    snprintf(doc, sizeof doc,
             "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" CAB_MT_OCI_MANIFEST
             "\",\"digest\":\"%s\",\"size\":1}]}",
             bad[i]);
    parse_bad(doc, NULL, "invalid digest");
  }
  /* digest not a string, bad sizes */
  parse_bad("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" CAB_MT_OCI_MANIFEST
            "\",\"digest\":7,\"size\":1}]}",
            NULL, "invalid digest");
  parse_bad("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" CAB_MT_OCI_MANIFEST
            "\",\"digest\":\"sha256:" H1 "\",\"size\":-1}]}",
            NULL, "size");
  parse_bad("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" CAB_MT_OCI_MANIFEST
            "\",\"digest\":\"sha256:" H1 "\",\"size\":1.5}]}",
            NULL, "size");
  parse_bad("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" CAB_MT_OCI_MANIFEST
            "\",\"digest\":\"sha256:" H1 "\"}]}",
            NULL, "size");
}

static void
test_config(void **state)
{
  const char *doc =
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\",\"A=b\"],"
      "\"Entrypoint\":[\"/bin/sh\",\"-c\"],\"Cmd\":[\"echo hi\"],\"WorkingDir\":\"/work\","
      "\"User\":\"1000:1000\",\"Labels\":{\"a\":\"b\"}},\"rootfs\":{\"type\":\"layers\","
      "\"diff_ids\":[\"sha256:" H1 "\",\"sha256:" H2 "\"]},\"history\":[]}";
  cab_image_config *c = NULL;
  cab_error err = {0};
  assert_int_equal(cab_config_parse(doc, strlen(doc), &c, &err), 0);
  assert_string_equal(c->platform.architecture, "amd64");
  assert_string_equal(c->env[1], "A=b");
  assert_null(c->env[2]);
  assert_string_equal(c->entrypoint[0], "/bin/sh");
  assert_string_equal(c->cmd[0], "echo hi");
  assert_string_equal(c->working_dir, "/work");
  assert_string_equal(c->user, "1000:1000");
  assert_int_equal(c->n_diff_ids, 2);
  assert_string_equal(c->diff_ids[1], "sha256:" H2);
  cab_config_free(c);

  const char *minimal = "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"config\":null}";
  assert_int_equal(cab_config_parse(minimal, strlen(minimal), &c, &err), 0);
  assert_null(c->env);
  assert_null(c->cmd);
  assert_null(c->working_dir);
  cab_config_free(c);

  static const char *const bad[] = {
      "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:../x\"]}}",
      "{\"rootfs\":{\"type\":\"layers\"}}",
      "{\"rootfs\":{\"type\":\"other\",\"diff_ids\":[]}}",
      "{}",
      "{\"config\":{\"Env\":\"PATH=/bin\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
      "{\"config\":{\"Cmd\":[1]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
      "{\"config\":{\"User\":0},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
      "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"rootfs\":{}}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    c = NULL;
    if (cab_config_parse(bad[i], strlen(bad[i]), &c, &err) == 0)
      fail_msg("config accepted: %s", bad[i]);
    assert_null(c);
  }
}

static void
test_media_type_helpers(void **state)
{
  assert_true(cab_mt_is_index(CAB_MT_OCI_INDEX));
  assert_true(cab_mt_is_index(CAB_MT_DOCKER_LIST));
  assert_false(cab_mt_is_index(CAB_MT_OCI_MANIFEST));
  assert_true(cab_mt_is_manifest(CAB_MT_DOCKER_MANIFEST));
  assert_false(cab_mt_is_manifest(NULL));
}

int
main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_oci_manifest),   cmocka_unit_test(test_docker_manifest),
      cmocka_unit_test(test_indexes_and_platforms), cmocka_unit_test(test_platform_parse),
      cmocka_unit_test(test_confusion),      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_bad_digests),    cmocka_unit_test(test_config),
      cmocka_unit_test(test_media_type_helpers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
