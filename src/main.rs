fn main() {
    std::process::exit(thingform::cli::run());
}
