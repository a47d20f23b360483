//! The standard modules `math` and `random`, driven through the real `pvm` binary
//! and pinned to exact outputs: numbers print with the shortest digits that
//! round-trip, so a recorded line fixes every bit of every result, and a host
//! whose libm (or a change of algorithm) moved one ulp fails here.

mod common;

use common::*;

// ---------------------------------------------------------------- math

/// Every math function on a fixed table of inputs, including signed zeros,
/// infinities, NaN and values past 2^53.
const MATH_TABLE_PROGRAM: &str = r#"import "math";
var xs = [0, -0, 0.5, -0.5, 1, -1, 2, 2.5, -2.5, 3.7, -3.7, 10, 0.1, 100, 12345.678,
  0.000001, math.pi, math.e, math.inf, -math.inf, math.nan, 1 / 3, 1000000000000000000000];
var pairs = [[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1], [-0, -1], [1, 1], [3, 4], [-3, 4],
  [2, 0.5], [2, 10], [10, -2], [0.5, 3.7], [math.inf, 1], [1, math.inf], [math.nan, 0],
  [0, math.nan], [-8, 1 / 3]];
fun show(name, results) {
  print name;
  for (var i = 0; i < results.len(); i += 4) print "  " + results.slice(i, i + 4).join(" ");
}
var unary = {"abs": math.abs, "floor": math.floor, "ceil": math.ceil, "round": math.round,
  "trunc": math.trunc, "sqrt": math.sqrt, "exp": math.exp, "log": math.log, "log2": math.log2,
  "log10": math.log10, "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin,
  "acos": math.acos, "atan": math.atan};
for (var name in unary.keys()) show(name, xs.map(unary[name]));
var binary = {"atan2": math.atan2, "hypot": math.hypot, "pow": math.pow, "min": math.min,
  "max": math.max};
for (var name in binary.keys()) {
  var f = binary[name];
  show(name, pairs.map(fun (p) { return f(p[0], p[1]); }));
}
show("min/max of three", [math.min(3, -1, 2), math.max(3, -1, 2), math.min(math.nan, 1, math.nan),
  math.max(math.nan, math.nan)]);
show("constants", [math.pi, math.e, math.inf, -math.inf, math.nan]);"#;

/// Recorded from this build. Each number is printed with the fewest digits
/// that read back as the same double, so any changed bit changes a line. The
/// last-ulp differences from glibc (for example `exp(1)` is
/// 2.7182818284590455 where glibc says 2.718281828459045) are the pure-Rust
/// libm's, which the spec requires on every host.
const MATH_TABLE_OUTPUT: &str = "\
abs
  0 0 0.5 0.5
  1 1 2 2.5
  2.5 3.7 3.7 10
  0.1 100 12345.678 0.000001
  3.141592653589793 2.718281828459045 inf inf
  nan 0.3333333333333333 1e+21
floor
  0 -0 0 -1
  1 -1 2 2
  -3 3 -4 10
  0 100 12345 0
  3 2 inf -inf
  nan 0 1e+21
ceil
  0 -0 1 -0
  1 -1 2 3
  -2 4 -3 10
  1 100 12346 1
  4 3 inf -inf
  nan 1 1e+21
round
  0 -0 1 -1
  1 -1 2 3
  -3 4 -4 10
  0 100 12346 0
  3 3 inf -inf
  nan 0 1e+21
trunc
  0 -0 0 -0
  1 -1 2 2
  -2 3 -3 10
  0 100 12345 0
  3 2 inf -inf
  nan 0 1e+21
sqrt
  0 -0 0.7071067811865476 nan
  1 nan 1.4142135623730951 1.5811388300841898
  nan 1.9235384061671346 nan 3.1622776601683795
  0.31622776601683794 10 111.11110655555547 0.001
  1.7724538509055159 1.6487212707001282 inf nan
  nan 0.5773502691896257 31622776601.683792
exp
  1 1 1.6487212707001282 0.6065306597126334
  2.7182818284590455 0.36787944117144233 7.38905609893065 12.182493960703473
  0.0820849986238988 40.4473043600674 0.024723526470339388 22026.465794806718
  1.1051709180756477 2.6881171418161356e+43 inf 1.0000010000005
  23.140692632779267 15.154262241479262 inf 0
  nan 1.3956124250860895 inf
log
  -inf -inf -0.6931471805599453 nan
  0 nan 0.6931471805599453 0.9162907318741551
  nan 1.308332819650179 nan 2.302585092994046
  -2.3025850929940455 4.605170185988092 9.421061321291832 -13.815510557964274
  1.1447298858494002 1 inf nan
  nan -1.0986122886681098 48.35428695287496
log2
  -inf -inf -1 nan
  0 nan 1 1.3219280948873624
  nan 1.8875252707415875 nan 3.321928094887362
  -3.321928094887362 6.643856189774724 13.59171844813855 -19.931568569324174
  1.6514961294723187 1.4426950408889634 inf nan
  nan -1.5849625007211563 69.7604899926346
log10
  -inf -inf -0.3010299956639812 nan
  0 nan 0.3010299956639812 0.3979400086720376
  nan 0.568201724066995 nan 1
  -1 2 4.091514945509202 -6
  0.49714987269413385 0.4342944819032518 inf nan
  nan -0.47712125471966244 21
sin
  0 -0 0.479425538604203 -0.479425538604203
  0.8414709848078965 -0.8414709848078965 0.9092974268256817 0.5984721441039564
  -0.5984721441039564 -0.5298361409084934 0.5298361409084934 -0.5440211108893698
  0.09983341664682815 -0.5063656411097588 -0.7040813137533816 9.999999999998333e-7
  1.2246467991473532e-16 0.41078129050290885 nan nan
  nan 0.3271946967961522 -0.6671201770718048
cos
  1 1 0.8775825618903728 0.8775825618903728
  0.5403023058681398 0.5403023058681398 -0.4161468365471424 -0.8011436155469337
  -0.8011436155469337 -0.848100031710408 -0.848100031710408 -0.8390715290764524
  0.9950041652780258 0.8623188722876839 0.7101193587160628 0.9999999999995
  -1 -0.9117339147869651 nan nan
  nan 0.9449569463147377 0.7449501119831339
tan
  0 -0 0.5463024898437905 -0.5463024898437905
  1.5574077246549023 -1.5574077246549023 -2.185039863261519 -0.7470222972386603
  0.7470222972386603 0.6247330752245639 -0.6247330752245639 0.6483608274590866
  0.10033467208545055 -0.5872139151569291 -0.9914971407432149 0.0000010000000000003333
  -1.2246467991473532e-16 -0.4505495340698077 nan nan
  nan 0.34625354951057546 -0.8955232925542654
asin
  0 -0 0.5235987755982989 -0.5235987755982989
  1.5707963267948966 -1.5707963267948966 nan nan
  nan nan nan nan
  0.1001674211615598 nan nan 0.0000010000000000001666
  nan nan nan nan
  nan 0.3398369094541219 nan
acos
  1.5707963267948966 1.5707963267948966 1.0471975511965979 2.0943951023931957
  0 3.141592653589793 nan nan
  nan nan nan nan
  1.4706289056333368 nan nan 1.5707953267948966
  nan nan nan nan
  nan 1.2309594173407747 nan
atan
  0 -0 0.4636476090008061 -0.4636476090008061
  0.7853981633974483 -0.7853981633974483 1.1071487177940904 1.1902899496825317
  -1.1902899496825317 1.3068326031691921 -1.3068326031691921 1.4711276743037347
  0.09966865249116204 1.5607966601082315 1.5707153267884317 9.999999999996666e-7
  1.2626272556789115 1.2182829050172777 1.5707963267948966 -1.5707963267948966
  nan 0.3217505543966422 1.5707963267948966
atan2
  0 1.5707963267948966 0 -1.5707963267948966
  3.141592653589793 -3.141592653589793 0.7853981633974483 0.6435011087932844
  -0.6435011087932844 1.3258176636680326 0.19739555984988078 1.7681918866447774
  0.1343214419529685 1.5707963267948966 0 nan
  nan -1.5291537476963082
hypot
  0 1 1 1
  1 1 1.4142135623730951 5
  5 2.0615528128088303 10.198039027185569 10.198039027185569
  3.733630940518894 inf inf nan
  nan 8.006941432976209
pow
  1 1 0 1
  inf -inf 1 81
  81 1.4142135623730951 1024 0.01
  0.07694652583405726 inf 1 1
  nan nan
min
  0 0 0 -1
  -1 -1 1 3
  -3 0.5 2 -2
  0.5 1 1 0
  0 -8
max
  0 1 1 0
  0 -0 1 4
  4 2 10 10
  3.7 inf inf 0
  0 0.3333333333333333
min/max of three
  -1 3 1 nan
constants
  3.141592653589793 2.718281828459045 inf -inf
  nan
";

#[test]
fn math_functions_give_the_recorded_bits() {
    let stdout = run_source("math-table", MATH_TABLE_PROGRAM).ok();
    let got = lines(&stdout);
    let expected = lines(MATH_TABLE_OUTPUT);
    for (index, (got, expected)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(
            got,
            expected,
            "line {} of the math table differs",
            index + 1
        );
    }
    assert_eq!(
        got.len(),
        expected.len(),
        "the math table has a different length"
    );
}

#[test]
fn math_round_goes_half_away_from_zero() {
    let program = r#"
        import "math";
        print [math.round(2.5), math.round(-2.5), math.round(0.5), math.round(-0.5)];
        print [math.round(1.5), math.round(3.5), math.round(2.4999999999999996)];
        print [math.round(0.49999999999999994), math.round(4503599627370497)];
    "#;
    let stdout = run_source("math-round", program).ok();
    assert_eq!(
        lines(&stdout),
        ["[3, -3, 1, -1]", "[2, 4, 2]", "[0, 4503599627370497]"]
    );
}

#[test]
fn math_constants_are_the_doubles_nearest_pi_and_e() {
    let program = r#"
        import "math";
        print math.pi == 3.141592653589793;
        print math.e == 2.718281828459045;
        print math.inf > 1000000000000000000000000000000;
        print math.nan == math.nan;
        print -math.inf < 0;
    "#;
    let stdout = run_source("math-constants", program).ok();
    assert_eq!(lines(&stdout), ["true", "true", "true", "false", "true"]);
}

#[test]
fn math_rejects_wrong_arguments_and_assignment() {
    let program = r#"
        import "math";
        fun attempt(action) {
          try { action(); print "no error"; } catch (e) { print e.message; }
        }
        attempt(fun () { math.sqrt("4"); });
        attempt(fun () { math.pow(2); });
        attempt(fun () { math.atan2(1, nil); });
        attempt(fun () { math.min(); });
        attempt(fun () { math.max(1, "2"); });
        attempt(fun () { math.pi = 3; });
        attempt(fun () { math.nosuch; });
        print math.min(7) + math.max(-7);
    "#;
    let stdout = run_source("math-errors", program).ok();
    assert_eq!(
        lines(&stdout),
        [
            "sqrt() needs a number argument.",
            "Expected 2 arguments but got 1.",
            "atan2() needs a number argument.",
            "min() needs at least one number.",
            "max() needs a number argument.",
            "Can't assign to module member 'pi'.",
            "Module 'math' has no member 'nosuch'.",
            "0",
        ]
    );
}

// ---------------------------------------------------------------- random

/// The first values of `random.next()` for seeds 0, 1 and 42. Recorded from
/// this build and checked against an independent implementation of the
/// documented algorithm (SplitMix64 filling xoshiro256** from the seed's bit
/// pattern, top 53 bits over 2^53), so they are the spec's numbers, not only
/// pvm's.
const RANDOM_FIRST_VALUES: [(&str, [&str; 5]); 3] = [
    (
        "0",
        [
            "0.6012629994179048",
            "0.7477740925472398",
            "0.10301998939503632",
            "0.4165890778296456",
            "0.7329967790569901",
        ],
    ),
    (
        "1",
        [
            "0.7675217909557249",
            "0.12442063141803661",
            "0.5497838534600528",
            "0.9108022527457672",
            "0.20248351594046443",
        ],
    ),
    (
        "42",
        [
            "0.8587981413313663",
            "0.2524601084204602",
            "0.9993385149297447",
            "0.3400066410786572",
            "0.8182705854539436",
        ],
    ),
];

#[test]
fn random_seeds_give_the_recorded_sequences() {
    for (seed, expected) in RANDOM_FIRST_VALUES {
        let program = format!(
            "import \"random\";\nrandom.seed({seed});\n\
             for (var i = 0; i < 5; i += 1) print random.next();\n"
        );
        let stdout = run_source("random-seed", &program).ok();
        assert_eq!(lines(&stdout), expected, "seed {seed}");
    }
}

#[test]
fn random_without_seed_starts_as_seed_zero_and_reseeding_restarts() {
    let program = r#"
        import "random";
        var unseeded = [random.next(), random.next(), random.next()];
        random.seed(0);
        var seeded = [random.next(), random.next(), random.next()];
        print unseeded[0] == seeded[0] and unseeded[1] == seeded[1] and unseeded[2] == seeded[2];
        print unseeded[0];
        random.seed(42);
        var first = random.next();
        random.seed(42);
        print first == random.next();
        // The seed is the number's bit pattern, so -0 is not 0.
        random.seed(-0);
        print random.next() == unseeded[0];
    "#;
    let stdout = run_source("random-unseeded", program).ok();
    assert_eq!(
        lines(&stdout),
        ["true", "0.6012629994179048", "true", "false"]
    );
}

#[test]
fn random_int_choice_and_shuffle_give_the_recorded_values() {
    let program = r#"
        import "random";
        random.seed(42);
        var dice = [];
        for (var i = 0; i < 12; i += 1) dice.push(random.int(1, 6));
        print dice;
        random.seed(1);
        var picks = [];
        for (var i = 0; i < 8; i += 1) picks.push(random.choice(["a", "b", "c"]));
        print picks;
        random.seed(0);
        var deck = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        random.shuffle(deck);
        print deck;
        random.seed(3);
        var wide = [];
        for (var i = 0; i < 4; i += 1) wide.push(random.int(-1000000000000, 1000000000000));
        print wide;
    "#;
    let stdout = run_source("random-recorded", program).ok();
    assert_eq!(
        lines(&stdout),
        [
            "[1, 4, 1, 4, 2, 5, 2, 5, 3, 4, 6, 1]",
            "[\"a\", \"a\", \"a\", \"b\", \"b\", \"c\", \"b\", \"b\"]",
            "[4, 2, 1, 7, 5, 6, 3, 9, 8, 0]",
            "[-980072953462, -365986031324, 841108815924, -535020638945]",
        ]
    );
}

#[test]
fn random_int_bounds_are_inclusive_and_all_reached() {
    let program = r#"
        import "random";
        fun math_floor(x) { return x - x % 1; }
        random.seed(5);
        var counts = {};
        var outside = 0;
        var fractional = 0;
        for (var i = 0; i < 3000; i += 1) {
          var n = random.int(-2, 2);
          if (n < -2 or n > 2) outside += 1;
          if (n != math_floor(n)) fractional += 1;
          counts[n] = counts.get(n, 0) + 1;
        }
        var keys = counts.keys();
        keys.sort();
        print keys;
        print outside;
        print fractional;
        print random.int(7, 7);
        print random.int(-0, 0);
        // Every value of a two-value range shows up within a few draws.
        var seen = {};
        for (var i = 0; i < 64; i += 1) seen[random.int(0, 1)] = true;
        print seen.len();
    "#;
    let stdout = run_source("random-int", program).ok();
    assert_eq!(
        lines(&stdout),
        ["[-2, -1, 0, 1, 2]", "0", "0", "7", "0", "2"]
    );
}

#[test]
fn random_choice_and_shuffle_keep_the_elements() {
    let program = r#"
        import "random";
        random.seed(9);
        var items = ["a", "b", "c", "d"];
        var chosen = {};
        for (var i = 0; i < 400; i += 1) chosen[random.choice(items)] = true;
        var names = chosen.keys();
        names.sort();
        print names;
        print random.choice([[1]])[0];
        print items;

        // shuffle is a permutation, in place, and returns nil.
        var deck = [];
        for (var i = 0; i < 52; i += 1) deck.push(i);
        print random.shuffle(deck);
        var sorted = deck.slice(0, 52);
        sorted.sort();
        var same = true;
        for (var i = 0; i < 52; i += 1) if (sorted[i] != i) same = false;
        print same;
        print deck.len();

        // It is exactly the documented Fisher-Yates: int(0, i) for i from len-1 down to 1.
        random.seed(11);
        var mine = [];
        for (var i = 0; i < 20; i += 1) mine.push(i);
        for (var i = mine.len() - 1; i >= 1; i -= 1) {
          var j = random.int(0, i);
          var t = mine[i];
          mine[i] = mine[j];
          mine[j] = t;
        }
        random.seed(11);
        var theirs = [];
        for (var i = 0; i < 20; i += 1) theirs.push(i);
        random.shuffle(theirs);
        print mine.join(",") == theirs.join(",");

        // Shuffling nothing or one element draws nothing.
        random.seed(2);
        var expected = random.next();
        random.seed(2);
        random.shuffle([]);
        random.shuffle(["only"]);
        print random.next() == expected;
    "#;
    let stdout = run_source("random-shuffle", program).ok();
    assert_eq!(
        lines(&stdout),
        [
            "[\"a\", \"b\", \"c\", \"d\"]",
            "1",
            "[\"a\", \"b\", \"c\", \"d\"]",
            "nil",
            "true",
            "52",
            "true",
            "true",
        ]
    );
}

#[test]
fn random_rejects_bad_arguments() {
    let program = r#"
        import "random";
        fun attempt(action) {
          try { action(); print "no error"; } catch (e) { print e.message; }
        }
        attempt(fun () { random.choice([]); });
        attempt(fun () { random.int(5, 1); });
        attempt(fun () { random.int(1.5, 3); });
        attempt(fun () { random.seed("x"); });
        attempt(fun () { random.shuffle("abc"); });
        attempt(fun () { random.choice("abc"); });
    "#;
    let stdout = run_source("random-errors", program).ok();
    assert_eq!(
        lines(&stdout),
        [
            "choice() needs a non-empty list.",
            "int() needs low <= high, got 5 > 1.",
            "int() needs an integer argument.",
            "seed() needs a number argument.",
            "shuffle() needs a list.",
            "choice() needs a list.",
        ]
    );
}
