//! `import "random";` — a seeded generator whose sequence is the same on every
//! host.
//!
//! Algorithm: xoshiro256** (Blackman and Vigna), its 256-bit state filled from
//! the seed by SplitMix64. `next()` is the top 53 bits of an output divided by
//! 2^53, in [0, 1). `int(lo, hi)` draws uniformly from the inclusive range by
//! rejection sampling (no modulo bias). A program that never calls `seed` starts
//! as if it had called `seed(0)`. `seed` takes any number; its IEEE-754 bits are
//! the seed, so `seed(1)` and `seed(1.5)` differ.

use crate::args::{integer, number};
use pvm_runtime::{native_error, NativeDef, NativeError, NativeMember, Value, Vm};

pub(crate) const MEMBERS: &[NativeMember] = &[
    NativeMember::Function(NativeDef {
        name: "seed",
        arity: Some(1),
        function: seed,
    }),
    NativeMember::Function(NativeDef {
        name: "next",
        arity: Some(0),
        function: next,
    }),
    NativeMember::Function(NativeDef {
        name: "int",
        arity: Some(2),
        function: int,
    }),
    NativeMember::Function(NativeDef {
        name: "choice",
        arity: Some(1),
        function: choice,
    }),
    NativeMember::Function(NativeDef {
        name: "shuffle",
        arity: Some(1),
        function: shuffle,
    }),
];

/// The generator state, kept per VM.
pub(crate) struct Xoshiro256 {
    state: [u64; 4],
}

impl Default for Xoshiro256 {
    fn default() -> Self {
        Xoshiro256::seeded(0)
    }
}

impl Xoshiro256 {
    pub(crate) fn seeded(seed: u64) -> Self {
        let mut mix = seed;
        let mut splitmix = || {
            mix = mix.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = mix;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Xoshiro256 {
            state: [splitmix(), splitmix(), splitmix(), splitmix()],
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..=span` by rejection: draws above the largest multiple of
    /// `span + 1` are redrawn.
    fn below_inclusive(&mut self, span: u64) -> u64 {
        if span == u64::MAX {
            return self.next_u64();
        }
        let range = span + 1;
        let zone = u64::MAX - (u64::MAX % range);
        loop {
            let draw = self.next_u64();
            if draw < zone {
                return draw % range;
            }
        }
    }
}

fn seed(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let bits = number(args[0], "seed")?.to_bits();
    *vm.extension::<Xoshiro256>() = Xoshiro256::seeded(bits);
    Ok(Value::NIL)
}

fn next(vm: &mut Vm, _args: &[Value]) -> Result<Value, NativeError> {
    Ok(Value::number(vm.extension::<Xoshiro256>().next_f64()))
}

fn int(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let (low, high) = (integer(args[0], "int")?, integer(args[1], "int")?);
    if low > high {
        return native_error(format!("int() needs low <= high, got {low} > {high}."));
    }
    let span = high.abs_diff(low);
    let draw = vm.extension::<Xoshiro256>().below_inclusive(span);
    Ok(Value::number((low as i128 + draw as i128) as f64))
}

fn choice(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let Some(len) = vm.list_items(args[0]).map(<[Value]>::len) else {
        return native_error("choice() needs a list.");
    };
    if len == 0 {
        return native_error("choice() needs a non-empty list.");
    }
    let index = vm.extension::<Xoshiro256>().below_inclusive(len as u64 - 1) as usize;
    Ok(vm
        .list_items(args[0])
        .map_or(Value::NIL, |items| items[index]))
}

/// Fisher–Yates, in place.
fn shuffle(vm: &mut Vm, args: &[Value]) -> Result<Value, NativeError> {
    let Some(len) = vm.list_items(args[0]).map(<[Value]>::len) else {
        return native_error("shuffle() needs a list.");
    };
    let mut swaps = Vec::with_capacity(len);
    for i in (1..len).rev() {
        let j = vm.extension::<Xoshiro256>().below_inclusive(i as u64) as usize;
        swaps.push((i, j));
    }
    vm.list_mutate(args[0], |items| {
        for (i, j) in swaps {
            items.swap(i, j);
        }
    });
    Ok(Value::NIL)
}

#[cfg(test)]
mod tests {
    use super::Xoshiro256;

    #[test]
    fn sequence_is_fixed_for_a_seed() {
        let mut a = Xoshiro256::seeded(42);
        let mut b = Xoshiro256::seeded(42);
        let first: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let second: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(first, second);
        assert_ne!(Xoshiro256::seeded(43).next_u64(), first[0]);
    }

    #[test]
    fn bounded_draws_stay_in_range() {
        let mut rng = Xoshiro256::seeded(7);
        for _ in 0..10_000 {
            assert!(rng.below_inclusive(6) <= 6);
            let x = rng.next_f64();
            assert!((0.0..1.0).contains(&x));
        }
    }
}
