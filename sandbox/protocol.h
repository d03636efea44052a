/* Messages from the sandbox's init (pid 1 inside) to the supervisor, over a
 * SOCK_SEQPACKET socketpair: one message per packet, never split. */
#ifndef CAB_SANDBOX_PROTOCOL_H
#define CAB_SANDBOX_PROTOCOL_H

enum cab_msg_type {
  CAB_MSG_GO = 1,          /* supervisor -> init: ids mapped, cgroup joined */
  CAB_MSG_SETUP_FAILED,    /* init -> supervisor: text says why; exit 125 */
  CAB_MSG_EXEC_FAILED,     /* errnum from execve; exit 126 or 127 */
  CAB_MSG_STARTED,         /* the command is running (exec succeeded) */
  CAB_MSG_EXITED,          /* value = wait status of the command */
  CAB_MSG_PTY_MASTER,      /* carries the pty master fd (SCM_RIGHTS) */
  CAB_MSG_TMPFS,           /* an O_PATH fd of a writable tmpfs (value: 0 /tmp,
                              1 /dev/shm), for the memory watchdog's statfs */
};

struct cab_msg {
  int type;
  int value;
  int errnum;
  char text[1536];
};

#endif
