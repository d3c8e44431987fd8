//! Names the platform implementation `src/sys/mod.rs` compiles, once, as
//! `cfg(fastdgram_imp = "linux" | "bsd" | "windows" | "fallback")`, so that
//! the choice is not spelled out again at every item that depends on it.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(fastdgram_imp, values(\"linux\", \"bsd\", \"windows\", \"fallback\"))");
    println!("cargo::rerun-if-env-changed=CARGO_CFG_FASTDGRAM_SYS");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    // `RUSTFLAGS='--cfg fastdgram_sys="fallback"'` picks the fallback anywhere.
    let chosen = std::env::var("CARGO_CFG_FASTDGRAM_SYS").unwrap_or_default();
    let implementation = match (chosen.as_str(), target_os.as_str()) {
        ("fallback", _) => "fallback",
        (_, "linux" | "android") => "linux",
        (_, "macos" | "freebsd") => "bsd",
        (_, "windows") => "windows",
        _ => "fallback",
    };
    println!("cargo::rustc-cfg=fastdgram_imp=\"{implementation}\"");
}
