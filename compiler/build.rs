//! Build script: turns `src/grammar.lalrpop` into a parser in `OUT_DIR`, so the generated
//! tables are never committed and always match the grammar they came from.

fn main() {
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .process()
        .expect("the Lox grammar must be a valid LALR(1) grammar");
}
