/* Deterministic embeddings for cab model-server (script.h). */
#include "runner/model_server/script.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

/* Whitespace-separated words, at least 1. */
static int64_t
count_words(const char *text)
{
  int64_t n = 0;
  bool in_word = false;
  for (const char *p = text; *p; p++) {
    bool space = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
    n += !space && !in_word;
    in_word = !space;
  }
  return n ? n : 1;
}

/* DIMS floats from TEXT alone: sha256(text, block) bytes, scaled to [-1, 1),
 * then normalised. */
static void
embed(const char *text, size_t dims, float *v)
{
  double norm = 0;
  for (size_t i = 0; i < dims; i += 8) {
    cleanup_free char *in = NULL;
    int n = asprintf(&in, "%zu\n%s", i / 8, text);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (n < 0 || EVP_Digest(in, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1)
      memset(md, 0, sizeof md);
    for (size_t k = 0; k < 8 && i + k < dims; k++) {
      uint32_t u = (uint32_t)md[4 * k] << 24 | (uint32_t)md[4 * k + 1] << 16 |
                   (uint32_t)md[4 * k + 2] << 8 | md[4 * k + 3];
      v[i + k] = (float)((double)u / 2147483648.0 - 1.0);
      norm += (double)v[i + k] * v[i + k];
    }
  }
  norm = sqrt(norm);
  for (size_t i = 0; i < dims && norm > 0; i++)
    v[i] = (float)(v[i] / norm);
}

static cJSON *
embedding_value(const float *v, size_t dims, bool base64)
{
  if (!base64) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < dims; i++)
      cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
    return a;
  }
  unsigned char raw[4096 * 4];
  for (size_t i = 0; i < dims; i++) {
    uint32_t u;
    memcpy(&u, &v[i], 4);
    raw[4 * i] = (unsigned char)u;
    raw[4 * i + 1] = (unsigned char)(u >> 8);
    raw[4 * i + 2] = (unsigned char)(u >> 16);
    raw[4 * i + 3] = (unsigned char)(u >> 24);
  }
  cleanup_free char *b64 = malloc(4 * ((dims * 4 + 2) / 3) + 1);
  if (b64 == NULL)
    return NULL;
  EVP_EncodeBlock((unsigned char *)b64, raw, (int)(dims * 4));
  return cJSON_CreateString(b64);
}

int
cab_script_render_embeddings(const struct cab_script *s, const cJSON *req,
                             struct cab_model_reply *out)
{
  const cJSON *input = cJSON_GetObjectItemCaseSensitive(req, "input");
  const cJSON *dim = cJSON_GetObjectItemCaseSensitive(req, "dimensions");
  const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(req, "encoding_format");
  size_t dims = 16;
  if (dim) {
    if (!cJSON_IsNumber(dim) || dim->valuedouble < 1 || dim->valuedouble > 4096)
      return cab_model_reply_error(out, false, 400, "invalid_value",
                                   "dimensions: expected an integer from 1 to 4096");
    dims = (size_t)dim->valuedouble;
  }
  bool base64 = cJSON_IsString(fmt) && strcmp(fmt->valuestring, "base64") == 0;
  /* input: a string, an array of strings, of token ids, or of arrays of them */
  cJSON *list = NULL;
  if (cJSON_IsString(input)) {
    list = cJSON_CreateArray();
    cJSON_AddItemToArray(list, cJSON_CreateString(input->valuestring));
  } else if (cJSON_IsArray(input) && cJSON_GetArraySize(input) > 0) {
    bool tokens = cJSON_IsNumber(cJSON_GetArrayItem(input, 0));
    list = cJSON_CreateArray();
    if (tokens) {
      cJSON_AddItemToArray(list, cJSON_Duplicate(input, true));
    } else {
      const cJSON *one;
      cJSON_ArrayForEach(one, input)
      cJSON_AddItemToArray(list, cJSON_Duplicate(one, true));
    }
  }
  if (list == NULL)
    return cab_model_reply_error(out, false, 400, "invalid_value",
                                 "input: expected a string or a non-empty array");
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "object", "list");
  cJSON *data = cJSON_AddArrayToObject(j, "data");
  int64_t tokens = 0;
  float v[4096];
  size_t index = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, list)
  {
    cleanup_free char *text = NULL;
    if (cJSON_IsString(it)) {
      text = strdup(it->valuestring);
      tokens += count_words(it->valuestring);
    } else {
      text = cJSON_PrintUnformatted(it);
      tokens += cJSON_IsArray(it) ? cJSON_GetArraySize(it) : 1;
    }
    embed(text ? text : "", dims, v);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToArray(data, e);
    cJSON_AddStringToObject(e, "object", "embedding");
    cJSON_AddNumberToObject(e, "index", (double)index++);
    cJSON_AddItemToObject(e, "embedding", embedding_value(v, dims, base64));
  }
  cJSON_Delete(list);
  cJSON_AddStringToObject(j, "model", s->model);
  cJSON *u = cJSON_AddObjectToObject(j, "usage");
  cJSON_AddNumberToObject(u, "prompt_tokens", (double)tokens);
  cJSON_AddNumberToObject(u, "total_tokens", (double)tokens);
  return cab_model_reply_json(out, 200, j);
}
