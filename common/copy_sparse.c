/* cab_copy_fd_sparse: copy the data, keep the holes (see fsutil.h). */
#include <errno.h>
#include <unistd.h>

#include "common/fsutil.h"

/* Copy [OFF, END) of IN to the same offsets of OUT. */
static int
copy_range(int in, int out, off_t off, off_t end)
{
  bool plain = false;
  while (off < end) {
    size_t want = end - off > (1 << 30) ? (size_t)1 << 30 : (size_t)(end - off);
    ssize_t n;
    if (!plain) {
      loff_t ioff = off, ooff = off;
      n = copy_file_range(in, &ioff, out, &ooff, want, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
                    errno == EOPNOTSUPP || errno == EBADF)) {
        plain = true;
        continue;
      }
    } else {
      char buf[65536];
      n = pread(in, buf, want < sizeof buf ? want : sizeof buf, off);
      for (ssize_t done = 0; n > 0 && done < n;) {
        ssize_t w = pwrite(out, buf + done, (size_t)(n - done), off + done);
        if (w < 0 && errno == EINTR)
          continue;
        if (w <= 0)
          return -1;
        done += w;
      }
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      break; /* the file shrank meanwhile */
    off += n;
  }
  return 0;
}

int
cab_copy_fd_sparse(int in, int out, off_t size)
{
  off_t pos = 0;
  while (pos < size) {
    off_t data = lseek(in, pos, SEEK_DATA);
    if (data < 0 && errno == ENXIO)
      break; /* only a hole is left */
    if (data < 0) {
      /* No SEEK_DATA here: one data range, the whole file. */
      if (errno != EINVAL)
        return -1;
      data = pos;
    }
    if (data >= size)
      break;
    off_t hole = lseek(in, data, SEEK_HOLE);
    if (hole < 0 || hole > size)
      hole = size;
    if (copy_range(in, out, data, hole) < 0)
      return -1;
    pos = hole;
  }
  return ftruncate(out, size);
}
