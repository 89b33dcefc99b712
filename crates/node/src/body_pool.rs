//! Memory for request bodies on their way to JS, used again once JS has let go of it.
//!
//! A body read for JS is one allocation of up to its whole length (a pushed body is read whole
//! into one), handed to JS as an external Buffer and freed when the garbage collector finalizes
//! that. Freed and allocated again for the next request, such a block comes back from the kernel
//! as fresh pages, one page fault each as the body is read into it: glibc maps large blocks
//! afresh, and gives the top of its heap back to the kernel. Blocks JS has let go of wait here
//! instead, up to `POOL_BYTES` in all, for the next body of about their size.

use std::ffi::c_void;
use std::ptr;
use std::sync::Mutex;

use napi::bindgen_prelude::ToNapiValue;
use napi::sys;

/// Blocks smaller than this are cheap enough to allocate anew: only larger ones are kept.
const POOLED_MIN: usize = 64 * 1024;
/// The most memory the pool keeps for reuse.
const POOL_BYTES: usize = 32 * 1024 * 1024;

struct Pool {
    blocks: Vec<Vec<u8>>,
    bytes: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    blocks: Vec::new(),
    bytes: 0,
});

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    // A panic while the lock was held leaves nothing half-done: the pool stays usable.
    POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// An empty buffer with room for `capacity` bytes: a kept block of that size up to twice it, or
/// a new allocation.
pub fn take(capacity: usize) -> Vec<u8> {
    if capacity >= POOLED_MIN {
        let mut pool = pool();
        let fits = |block: &Vec<u8>| (capacity..=capacity * 2).contains(&block.capacity());
        if let Some(i) = pool.blocks.iter().position(fits) {
            let block = pool.blocks.swap_remove(i);
            pool.bytes -= block.capacity();
            return block;
        }
    }
    Vec::with_capacity(capacity)
}

/// Keeps `block` for a later `take` if it is large and the pool has room; frees it otherwise.
pub fn give_back(mut block: Vec<u8>) {
    let size = block.capacity();
    if size < POOLED_MIN {
        return;
    }
    let mut pool = pool();
    if pool.bytes + size <= POOL_BYTES {
        block.clear();
        pool.bytes += size;
        pool.blocks.push(block);
    }
}

/// Body bytes that become a JS Buffer over their own memory, which returns to the pool when
/// the Buffer is collected.
pub struct PooledBuffer(pub Vec<u8>);

impl ToNapiValue for PooledBuffer {
    unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> napi::Result<sys::napi_value> {
        let PooledBuffer(bytes) = value;
        let mut result = ptr::null_mut();
        if bytes.is_empty() {
            // An empty Vec's pointer is dangling; V8 wants null for an empty external buffer.
            napi::check_status!(unsafe {
                sys::napi_create_buffer(env, 0, ptr::null_mut(), &mut result)
            })?;
            give_back(bytes);
            return Ok(result);
        }
        let len = bytes.len();
        let data = bytes.as_ptr() as *mut c_void;
        let hint = Box::into_raw(Box::new(bytes));
        // SAFETY: `data` stays valid until `release` runs: the Vec it points into is owned by
        // `hint`, which only `release` (or the failure path below) takes back.
        let status = unsafe {
            sys::napi_create_external_buffer(
                env,
                len,
                data,
                Some(release),
                hint.cast(),
                &mut result,
            )
        };
        if status != sys::Status::napi_ok {
            // External buffers may be refused (a sandboxed runtime): copy instead.
            let bytes = unsafe { Box::from_raw(hint) };
            let copied = unsafe {
                sys::napi_create_buffer_copy(
                    env,
                    len,
                    bytes.as_ptr().cast(),
                    ptr::null_mut(),
                    &mut result,
                )
            };
            give_back(*bytes);
            napi::check_status!(copied)?;
        }
        Ok(result)
    }
}

unsafe extern "C" fn release(_: sys::napi_env, _: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the box `to_napi_value` leaked for this buffer, released once.
    let bytes = unsafe { Box::from_raw(hint.cast::<Vec<u8>>()) };
    give_back(*bytes);
}
