/* A sandbox run's protection level: what it actually ran under (namespaces,
 * seccomp, capabilities, what enforced each limit, its root, its network),
 * the vocabulary `--require` takes, and the summary level, both as data.
 *
 * One block, written as cell.json's environment.protection and as `cab exec
 * --result`'s "protection"; run-cell and cab exec fill it twice: predicted
 * before anything starts (runner/cell/protection_predict.c, from what the
 * host offers) and from the sandboxes' results afterwards.  This file only
 * names, judges and (de)serialises it: it knows no sandbox. */
#ifndef CAB_RUNNER_RECORD_PROTECTION_H
#define CAB_RUNNER_RECORD_PROTECTION_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* The items of --require, in the order they are listed and written. */
enum cab_protection_item {
  CAB_PROT_NAMESPACES, /* user, mount, pid, net, ipc, uts and cgroup namespaces */
  CAB_PROT_SECCOMP,    /* a seccomp filter on the agent (and the verifier) */
  CAB_PROT_CGROUP,     /* every limit asked for enforced by a cgroup */
  CAB_PROT_MEMORY,     /* memory limited by a cgroup */
  CAB_PROT_PIDS,       /* pids limited by a cgroup */
  CAB_PROT_CPU,        /* cpu limited by a cgroup */
  CAB_PROT_IMAGE,      /* the root is an image (or a directory), not the host's / */
  CAB_PROT_OVERLAY,    /* the root's writes go to an overlay, not a private copy */
  CAB_PROT_N_ITEMS
};
typedef unsigned cab_protection_set; /* one bit per item: 1u << CAB_PROT_* */

#define CAB_PROT_BIT(item) (1u << (item))
/* --require's default: no cell runs outside its namespaces or unfiltered. */
#define CAB_PROTECTION_REQUIRE_DEFAULT                                                          \
  (CAB_PROT_BIT(CAB_PROT_NAMESPACES) | CAB_PROT_BIT(CAB_PROT_SECCOMP))

/* The namespaces, as bits of struct cab_protection's NAMESPACES. */
enum {
  CAB_NS_USER = 1u << 0,
  CAB_NS_MOUNT = 1u << 1,
  CAB_NS_PID = 1u << 2,
  CAB_NS_NET = 1u << 3,
  CAB_NS_IPC = 1u << 4,
  CAB_NS_UTS = 1u << 5,
  CAB_NS_CGROUP = 1u << 6,
  CAB_NS_ALL = (1u << 7) - 1,
};

/* What one limit's value says: the sandbox's mechanism names
 * (cab_limit_mech_name: "cgroup-v2", "cgroup-v1", "rlimit", "none"), the
 * time limit's "supervisor", the disk budget's "watchdog", and "unlimited"
 * for a limit the run did not ask for. */
#define CAB_PROT_UNLIMITED "unlimited"

struct cab_protection {
  bool ran;                  /* the agent's sandbox ran (or, predicted, will) */
  unsigned namespaces;       /* CAB_NS_* entered */
  char seccomp[32];          /* the agent's policy: "default", "file", "unconfined"... */
  char verifier_seccomp[32]; /* "": no verifier ran (cab exec; a cell stopped early) */
  char capabilities[1024];   /* kept by the command: "CAP_CHOWN,CAP_KILL,..." */
  struct {
    char memory[16], pids[16], cpu[16], time[16], disk[16];
  } limits;
  char root[16];             /* "overlay", "copy", "directory" (read-only) or "host" */
  size_t masked_paths;       /* root "host": the host paths hidden from it */
  char network[16];          /* "veth+proxy" (the model network) or "none" (lo only) */
  cab_protection_set required; /* what --require asked */
  char level[32];            /* read back: the level as the record says it (the
                                writer computes it, cab_protection_level) */
};

/* The item's name ("namespaces"...), or NULL. */
const char *cab_protection_item_name(enum cab_protection_item item);

/* Parse --require's LIST: comma-separated items, or "none" alone.  ERR
 * names OPTION ("--require", "plan: require") and, for a bad item, that
 * item and the valid ones, in one line. */
int cab_protection_parse(const char *list, const char *option, cab_protection_set *out,
                         cab_error *err);
/* SET as --require spells it ("namespaces,seccomp"; "none" when empty). */
char *cab_protection_format(cab_protection_set set, char *buf, size_t size);

/* The items P holds, and the summary level: the first row of the level
 * table (protection.c) whose items P all holds. */
cab_protection_set cab_protection_held(const struct cab_protection *p);
const char *cab_protection_level(const struct cab_protection *p);

/* The first item of REQUIRED that P does not hold (-1: none), and in BUF
 * what P gives instead, e.g. "memory would be enforced by rlimit+watchdog"
 * (PREDICTED) or "memory was enforced by rlimit+watchdog". */
int cab_protection_first_missing(const struct cab_protection *p, cab_protection_set required,
                                 bool predicted, char *buf, size_t size);

/* The block as JSON (level first), and back (0; -1 when J is no object:
 * an older record has none). */
cJSON *cab_protection_to_json(const struct cab_protection *p);
int cab_protection_from_json(const cJSON *j, struct cab_protection *p);

#endif
