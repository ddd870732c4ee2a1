//! Valgrind client requests for a ctgrind check, without valgrind's C headers.
//!
//! ctgrind: memcheck reports a conditional jump, or a memory address, that depends on bytes it
//! believes *undefined*. Marking secret bytes undefined turns that report into "this branch or
//! this address depends on the secret" — a timing or cache leak, found in the compiled code.
//!
//! A client request is a magic instruction sequence that is a no-op on the CPU and that
//! valgrind recognises (valgrind.h, amd64): four rotations of %rdi by 3, 13, 61 and 51 bits (128
//! in all, so %rdi is unchanged) then `xchgq %rbx,%rbx`; %rax points at six words (request
//! code, five arguments), %rdx holds the default and receives the result. Outside valgrind every
//! request returns its default. Written for x86_64 only; elsewhere the requests do nothing and
//! [`running_on_valgrind`] is false, which the ctgrind binary treats as a failure.

/// `VG_USERREQ__RUNNING_ON_VALGRIND` (valgrind.h).
const RUNNING_ON_VALGRIND: usize = 0x1001;
/// `VG_USERREQ__COUNT_ERRORS` (valgrind.h): errors reported so far.
const COUNT_ERRORS: usize = 0x1201;
/// `VG_USERREQ_TOOL_BASE('M','C')` (memcheck.h), then `+ 1` and `+ 2` in its enum.
const MEMCHECK_BASE: usize = (b'M' as usize) << 24 | (b'C' as usize) << 16;
const MAKE_MEM_UNDEFINED: usize = MEMCHECK_BASE + 1;
const MAKE_MEM_DEFINED: usize = MEMCHECK_BASE + 2;

/// True when this x86_64 build can issue client requests (no-ops outside valgrind).
pub const SUPPORTED: bool = cfg!(target_arch = "x86_64");

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn request(default: usize, code: usize, arg1: usize, arg2: usize) -> usize {
    let args: [usize; 6] = [code, arg1, arg2, 0, 0, 0];
    let mut result = default;
    // SAFETY: the sequence only rotates %rdi by 128 bits in all (no net change), clobbers the
    // flags (not `preserves_flags`) and exchanges %rbx with itself; under valgrind it reads
    // `args` and writes %rdx. No `nomem`: the compiler must assume the memory the arguments
    // point to may change, so it reloads it afterwards instead of reusing a copy in a register
    // (which would carry the old definedness and hide the secret from memcheck).
    unsafe {
        std::arch::asm!(
            "rolq $3, %rdi",
            "rolq $13, %rdi",
            "rolq $61, %rdi",
            "rolq $51, %rdi",
            "xchgq %rbx, %rbx",
            in("rax") args.as_ptr(),
            inout("rdx") result,
            options(nostack, att_syntax),
        );
    }
    result
}

#[cfg(not(target_arch = "x86_64"))]
fn request(default: usize, _code: usize, _arg1: usize, _arg2: usize) -> usize {
    default
}

/// True when running under valgrind (any tool).
pub fn running_on_valgrind() -> bool {
    request(0, RUNNING_ON_VALGRIND, 0, 0) != 0
}

/// Errors valgrind has reported so far (0 outside valgrind).
pub fn error_count() -> usize {
    request(0, COUNT_ERRORS, 0, 0)
}

/// Marks `value`'s bytes secret: memcheck now reports any branch or address that depends on
/// them. `&mut`, so the compiler cannot keep using a copy it loaded before (see [`request`]).
/// Heap memory `value` points to is not marked; only its own bytes.
pub fn secret<T: ?Sized>(value: &mut T) {
    let len = std::mem::size_of_val(value);
    request(
        0,
        MAKE_MEM_UNDEFINED,
        value as *mut T as *mut u8 as usize,
        len,
    );
}

/// Marks `value`'s bytes public again (declassifies them): they may be branched on from now.
pub fn public<T: ?Sized>(value: &T) {
    let len = std::mem::size_of_val(value);
    request(
        0,
        MAKE_MEM_DEFINED,
        value as *const T as *const u8 as usize,
        len,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    // On the CPU the sequence must change nothing (the rotations of %rdi add up to 128 bits).
    #[test]
    fn requests_change_nothing_outside_valgrind() {
        let mut bytes = [0x5Au8; 33];
        secret(&mut bytes);
        public(&bytes);
        assert_eq!(bytes, [0x5Au8; 33]);
        if !running_on_valgrind() {
            assert_eq!(error_count(), 0);
        }
    }
}
