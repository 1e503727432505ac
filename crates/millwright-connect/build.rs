//! Compiles the vendored Sparkplug B protobuf (proto/sparkplug_b.proto) into Rust types with protox, so the
//! build needs no protoc.

// Cargo reads its instructions from the build script's stdout.
#![allow(clippy::print_stdout)]

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/sparkplug_b.proto");
    let descriptors = protox::compile(["sparkplug_b.proto"], ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
