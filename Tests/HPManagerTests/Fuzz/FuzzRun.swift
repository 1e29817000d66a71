import Foundation
import Testing

/// A bounded, seeded fuzz loop. `HPM_FUZZ_SEED` replays a run, `HPM_FUZZ_SCALE` multiplies the case
/// count (e.g. 100 for a long local run). Before each case its seed and input go to a file named in
/// the test output, so even a trap that kills the test process leaves the input behind; other
/// failures are recorded with seed and input.
struct FuzzRun {
    let name: String
    let baseSeed: UInt64
    let cases: Int
    let lastInputPath: String

    init(_ name: String, cases: Int) {
        self.name = name
        let environment = ProcessInfo.processInfo.environment
        baseSeed = environment["HPM_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x4850_4D5F_4655_5A5A  // "HPM_FUZZ"
        let scale = environment["HPM_FUZZ_SCALE"].flatMap { Int($0) }.map { max(1, min($0, 10_000)) } ?? 1
        self.cases = cases * scale
        lastInputPath = NSTemporaryDirectory() + "hpm-fuzz-\(name).last"
    }

    /// Runs `body` for every case with a generator seeded by the case's own seed. Every 25 cases it
    /// yields: tests share the cooperative pool (two threads on two cores), and a CPU-bound loop that
    /// never yields starves every other test's tasks for seconds.
    func run(_ body: (inout SplitMix64, _ record: (String) -> Void) throws -> Void) async rethrows {
        _ = FileManager.default.createFile(atPath: lastInputPath, contents: nil)
        // One open file rewritten in place: cheap enough for thousands of cases per second.
        let handle = FileHandle(forWritingAtPath: lastInputPath)
        for index in 0..<cases {
            if index % 25 == 24 { await Task.yield() }
            let seed = baseSeed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15
            var rng = SplitMix64(seed: seed)
            try body(&rng) { input in
                // Written before the case runs: a trap still leaves the input behind.
                let data = Data("fuzz \(name) seed \(seed) (HPM_FUZZ_SEED=\(baseSeed), case \(index))\n\(input)".utf8)
                try? handle?.seek(toOffset: 0)
                try? handle?.write(contentsOf: data)
                try? handle?.truncate(atOffset: UInt64(data.count))
            }
        }
        try? handle?.close()
        try? FileManager.default.removeItem(atPath: lastInputPath)
    }

    /// For async bodies that generate their cases with `run` first: leaves case `index`'s input behind.
    func note(_ input: String, case index: Int) {
        try? "fuzz \(name) case \(index) (HPM_FUZZ_SEED=\(baseSeed))\n\(input)".write(toFile: lastInputPath, atomically: false, encoding: .utf8)
    }

    func fail(_ message: String, seed input: String, sourceLocation: SourceLocation = #_sourceLocation) {
        Issue.record("fuzz \(name) (HPM_FUZZ_SEED=\(baseSeed)): \(message)\ninput (also in \(lastInputPath)):\n\(input.prefix(2000))",
                     sourceLocation: sourceLocation)
    }
}
