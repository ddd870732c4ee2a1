//! Files as the key store needs them: bounded reads (into zeroizing buffers for secrets) and
//! atomic writes with an exact mode that never leave a partial file or a readable temporary.

use std::ffi::OsString;
use std::fs::{self, File, Metadata, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use zeroize::Zeroizing;

use super::{io_err, StoreError, KEY_FILE_MODE};

/// Atomically writes `bytes` to `path` with exactly `mode` (for example `0o644` for
/// certificates), regardless of the process umask.
///
/// Discipline: the data goes to a new temporary file in the same directory, created with
/// `O_EXCL` and mode `0600` (so it is never readable by others while being filled), then
/// is `fsync`ed, `chmod`ed to `mode`, published under `path` (by `rename` when
/// `overwrite`, by an atomic no-clobber hard link otherwise), and the directory is
/// `fsync`ed. A failure at any step removes the temporary file; a crash can at worst
/// leave a stray `.NAME.tmp-*` file, never a partial `path`.
///
/// If publishing succeeded but the final directory `fsync` fails, the error is returned
/// although `path` now exists: durability was not confirmed.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    overwrite: bool,
) -> Result<(), StoreError> {
    if mode & !0o777 != 0 {
        return Err(StoreError::InvalidMode {
            path: path.to_path_buf(),
            mode,
        });
    }
    let file_name = path.file_name().ok_or_else(|| StoreError::InvalidPath {
        path: path.to_path_buf(),
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !overwrite && path_exists(path)? {
        return Err(StoreError::AlreadyExists {
            path: path.to_path_buf(),
        });
    }

    let mut tmp = TempFile::create(dir, file_name)?;
    tmp.file.write_all(bytes).map_err(io_err(&tmp.path))?;
    tmp.file
        .set_permissions(Permissions::from_mode(mode))
        .map_err(io_err(&tmp.path))?;
    tmp.file.sync_all().map_err(io_err(&tmp.path))?;

    #[cfg(test)]
    if fault::take() {
        return Err(StoreError::Io {
            path: tmp.path.clone(),
            source: io::Error::other("injected fault"),
        });
    }

    if overwrite {
        fs::rename(&tmp.path, path).map_err(io_err(path))?;
        tmp.disarm();
    } else {
        publish_no_clobber(&mut tmp, path)?;
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Publishes `tmp` as `path` only if `path` does not exist, without a check-then-act race:
/// `link(2)` fails with `EEXIST` if the name is taken.
pub(super) fn publish_no_clobber(tmp: &mut TempFile, path: &Path) -> Result<(), StoreError> {
    match fs::hard_link(&tmp.path, path) {
        Ok(()) => {
            // The data is now safely under `path`; drop the temporary name. (A crash right
            // here leaves a second name for the same 0600 inode, nothing partial.)
            fs::remove_file(&tmp.path).map_err(io_err(&tmp.path))?;
            tmp.disarm();
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(StoreError::AlreadyExists {
            path: path.to_path_buf(),
        }),
        Err(_) => {
            // Some file systems (FAT, some FUSE mounts) have no hard links. Fall back to
            // check-then-rename, which is only racy against a concurrent writer of the same name.
            if path_exists(path)? {
                return Err(StoreError::AlreadyExists {
                    path: path.to_path_buf(),
                });
            }
            fs::rename(&tmp.path, path).map_err(io_err(path))?;
            tmp.disarm();
            Ok(())
        }
    }
}

/// Whether anything (including a dangling symlink) is at `path`.
pub(super) fn path_exists(path: &Path) -> Result<bool, StoreError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// A temporary file that removes itself on drop unless disarmed, so every early return
/// (and a panic) between creation and publication cleans up.
pub(super) struct TempFile {
    path: PathBuf,
    pub(in crate::store) file: File,
    armed: bool,
}

impl TempFile {
    pub(in crate::store) fn create(
        dir: &Path,
        target_name: &std::ffi::OsStr,
    ) -> Result<Self, StoreError> {
        // Unique per process and call; O_EXCL makes a leftover from a crashed run with
        // the same pid harmless (we just move on to the next name).
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let pid = std::process::id();
        let mut last_err = None;
        for _ in 0..32 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut name = OsString::from(".");
            name.push(target_name);
            name.push(format!(".tmp-{pid}-{n}"));
            let path = dir.join(name);
            // Created 0600 so the bytes are never visible to others, whatever the final mode.
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(KEY_FILE_MODE)
                .open(&path)
            {
                Ok(file) => {
                    return Ok(Self {
                        path,
                        file,
                        armed: true,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some((path, e)),
                Err(e) => return Err(StoreError::Io { path, source: e }),
            }
        }
        Err(match last_err {
            Some((path, source)) => StoreError::Io { path, source },
            None => StoreError::InvalidPath {
                path: dir.to_path_buf(),
            },
        })
    }

    fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.armed {
            // Best effort: there is no one to report to from a destructor, and the caller
            // already has the error that brought us here.
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Reads at most `limit` bytes of the file at `path`; a larger file is refused with
/// [`StoreError::TooLarge`] naming the path. Meant for small files such as certificates.
pub fn read_bounded(path: &Path, limit: usize) -> Result<Vec<u8>, StoreError> {
    let (mut bytes, _) = read_bounded_secret(path, limit)?;
    Ok(std::mem::take(&mut *bytes))
}

/// Bounded read into a zeroizing buffer, returning the file's metadata (from the open
/// descriptor, so it describes the file actually read). The buffer is sized from the
/// file's length and grown only by copying into a new zeroizing buffer, so no copy of
/// the contents is left unzeroized.
pub(super) fn read_bounded_secret(
    path: &Path,
    limit: usize,
) -> Result<(Zeroizing<Vec<u8>>, Metadata), StoreError> {
    let too_large = || StoreError::TooLarge {
        path: path.to_path_buf(),
        limit,
    };
    let mut file = File::open(path).map_err(io_err(path))?;
    let meta = file.metadata().map_err(io_err(path))?;
    let declared = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    if meta.is_file() && declared > limit {
        return Err(too_large());
    }
    // One spare byte lets us see that a file grew past the limit while we read it.
    let cap = limit.saturating_add(1);
    let initial = if meta.is_file() {
        declared.saturating_add(1).min(cap)
    } else {
        cap.min(4096)
    };
    let mut buf = Zeroizing::new(vec![0u8; initial]);
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            if buf.len() >= cap {
                return Err(too_large());
            }
            let mut bigger = Zeroizing::new(vec![0u8; buf.len().saturating_mul(2).min(cap)]);
            bigger[..filled].copy_from_slice(&buf[..filled]);
            buf = bigger;
        }
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(path)(e)),
        }
    }
    if filled > limit {
        return Err(too_large());
    }
    buf.truncate(filled);
    Ok((buf, meta))
}

/// Test-only fault injection: makes the next atomic write on this thread fail after the
/// temporary file is written and synced, just before it would be published.
#[cfg(test)]
pub(in crate::store) mod fault {
    use std::cell::Cell;

    thread_local! {
        static FAIL_BEFORE_PUBLISH: Cell<bool> = const { Cell::new(false) };
    }

    pub(in crate::store) fn arm() {
        FAIL_BEFORE_PUBLISH.with(|f| f.set(true));
    }

    pub(super) fn take() -> bool {
        FAIL_BEFORE_PUBLISH.with(|f| f.replace(false))
    }
}
