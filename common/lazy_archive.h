/* libarchive, opened at first use (common/lazy_lib.h): only unpack, import
 * and export read or write tar streams, so a cell on an unpacked image or on
 * the host's root, and every other command, never maps it and the libxml2,
 * ICU, libstdc++, nettle and compression libraries it pulls in.
 *
 * Include this instead of <archive.h> and <archive_entry.h>.  Call
 * cab_archive_load() where a use begins (it fills ERR with one line when
 * libarchive is missing); the archive_* calls below then go through the
 * table unchanged in spelling.  A call before any cab_archive_load() still
 * loads, and ends the process with the same line (exit 125) if that fails. */
#ifndef CAB_COMMON_LAZY_ARCHIVE_H
#define CAB_COMMON_LAZY_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

#include "common/error.h"

#define CAB_ARCHIVE_FUNCS(X) \
  X(entry_atime) X(entry_atime_is_set) X(entry_atime_nsec) X(entry_filetype) X(entry_free) \
  X(entry_gid) X(entry_hardlink) X(entry_hardlink_utf8) X(entry_mtime) X(entry_mtime_is_set) \
  X(entry_mtime_nsec) X(entry_new) X(entry_pathname) X(entry_pathname_utf8) X(entry_perm) \
  X(entry_set_filetype) X(entry_set_gid) X(entry_set_mtime) X(entry_set_pathname) \
  X(entry_set_perm) X(entry_set_size) X(entry_set_uid) X(entry_size) X(entry_symlink) \
  X(entry_symlink_utf8) X(entry_uid) X(entry_xattr_next) X(entry_xattr_reset) X(errno) \
  X(error_string) X(read_data) X(read_data_block) X(read_free) X(read_new) X(read_next_header) \
  X(read_open) X(read_open_fd) X(read_open_filename) X(read_support_filter_all) \
  X(read_support_format_gnutar) X(read_support_format_raw) X(read_support_format_tar) \
  X(set_error) X(write_close) X(write_data) X(write_free) X(write_header) X(write_new) \
  X(write_open_fd) X(write_set_bytes_in_last_block) X(write_set_format_pax_restricted)

/* One pointer per function, typed as archive.h declares it; f_ keeps
 * errno a member name, not the libc macro. */
#define CAB_ARCHIVE_MEMBER(n) __typeof__(archive_##n) *f_##n;
struct cab_archive_api {
  CAB_ARCHIVE_FUNCS(CAB_ARCHIVE_MEMBER)
};
#undef CAB_ARCHIVE_MEMBER

/* Open libarchive.so.13, once per process (thread-safe).  Returns 0, or -1
 * with "libarchive.so.13 not found: apt-get install libarchive13 (make
 * deps)" in ERR. */
int cab_archive_load(cab_error *err);

/* The table (loads it first if no one has). */
const struct cab_archive_api *cab_archive(void);

#define archive_entry_atime (cab_archive()->f_entry_atime)
#define archive_entry_atime_is_set (cab_archive()->f_entry_atime_is_set)
#define archive_entry_atime_nsec (cab_archive()->f_entry_atime_nsec)
#define archive_entry_filetype (cab_archive()->f_entry_filetype)
#define archive_entry_free (cab_archive()->f_entry_free)
#define archive_entry_gid (cab_archive()->f_entry_gid)
#define archive_entry_hardlink (cab_archive()->f_entry_hardlink)
#define archive_entry_hardlink_utf8 (cab_archive()->f_entry_hardlink_utf8)
#define archive_entry_mtime (cab_archive()->f_entry_mtime)
#define archive_entry_mtime_is_set (cab_archive()->f_entry_mtime_is_set)
#define archive_entry_mtime_nsec (cab_archive()->f_entry_mtime_nsec)
#define archive_entry_new (cab_archive()->f_entry_new)
#define archive_entry_pathname (cab_archive()->f_entry_pathname)
#define archive_entry_pathname_utf8 (cab_archive()->f_entry_pathname_utf8)
#define archive_entry_perm (cab_archive()->f_entry_perm)
#define archive_entry_set_filetype (cab_archive()->f_entry_set_filetype)
#define archive_entry_set_gid (cab_archive()->f_entry_set_gid)
#define archive_entry_set_mtime (cab_archive()->f_entry_set_mtime)
#define archive_entry_set_pathname (cab_archive()->f_entry_set_pathname)
#define archive_entry_set_perm (cab_archive()->f_entry_set_perm)
#define archive_entry_set_size (cab_archive()->f_entry_set_size)
#define archive_entry_set_uid (cab_archive()->f_entry_set_uid)
#define archive_entry_size (cab_archive()->f_entry_size)
#define archive_entry_symlink (cab_archive()->f_entry_symlink)
#define archive_entry_symlink_utf8 (cab_archive()->f_entry_symlink_utf8)
#define archive_entry_uid (cab_archive()->f_entry_uid)
#define archive_entry_xattr_next (cab_archive()->f_entry_xattr_next)
#define archive_entry_xattr_reset (cab_archive()->f_entry_xattr_reset)
#define archive_errno (cab_archive()->f_errno)
#define archive_error_string (cab_archive()->f_error_string)
#define archive_read_data (cab_archive()->f_read_data)
#define archive_read_data_block (cab_archive()->f_read_data_block)
#define archive_read_free (cab_archive()->f_read_free)
#define archive_read_new (cab_archive()->f_read_new)
#define archive_read_next_header (cab_archive()->f_read_next_header)
#define archive_read_open (cab_archive()->f_read_open)
#define archive_read_open_fd (cab_archive()->f_read_open_fd)
#define archive_read_open_filename (cab_archive()->f_read_open_filename)
#define archive_read_support_filter_all (cab_archive()->f_read_support_filter_all)
#define archive_read_support_format_gnutar (cab_archive()->f_read_support_format_gnutar)
#define archive_read_support_format_raw (cab_archive()->f_read_support_format_raw)
#define archive_read_support_format_tar (cab_archive()->f_read_support_format_tar)
#define archive_set_error (cab_archive()->f_set_error)
#define archive_write_close (cab_archive()->f_write_close)
#define archive_write_data (cab_archive()->f_write_data)
#define archive_write_free (cab_archive()->f_write_free)
#define archive_write_header (cab_archive()->f_write_header)
#define archive_write_new (cab_archive()->f_write_new)
#define archive_write_open_fd (cab_archive()->f_write_open_fd)
#define archive_write_set_bytes_in_last_block (cab_archive()->f_write_set_bytes_in_last_block)
#define archive_write_set_format_pax_restricted (cab_archive()->f_write_set_format_pax_restricted)

#endif
