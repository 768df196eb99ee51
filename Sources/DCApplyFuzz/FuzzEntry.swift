import Foundation

#if DCAPPLY_LIBFUZZER
/// The target this process fuzzes, from `DCAPPLY_FUZZ_TARGET` (scripts/fuzz sets it).
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["DCAPPLY_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("set DCAPPLY_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))\n".utf8))
        exit(2)
    }
    return target
}()

/// libFuzzer's driver (in libclang_rt.fuzzer, linked by `-sanitize=fuzzer`). SwiftPM links an
/// executable's `main` to the module's own entry point, so libFuzzer's `main` is not used: the
/// entry point below hands over to the driver instead. Three pointers in, an int out: the same
/// registers in the Swift and the C calling convention.
@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The fuzzing build's entry point (`-sanitize=fuzzer -D DCAPPLY_LIBFUZZER`): libFuzzer with
/// the command line as given (`-runs=`, `-timeout=`, corpus folders, files to replay).
@main
enum FuzzMain {
    static func main() {
        _ = selectedTarget
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(llvmFuzzerRunDriver(&argc, &argv) { bytes, count in
            selectedTarget.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
            return 0
        })
    }
}
#else
/// Without libFuzzer: `dcapply-fuzz TARGET FILE...` replays inputs (a finding, a corpus) through
/// one target and prints each summary, so a crash reproduces in an ordinary build.
@main
enum FuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: DCApplyFuzz TARGET FILE...; targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))")
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): cannot read")
                exit(1)
            }
            print("\(path): \(target.run(data))")
        }
    }
}
#endif
