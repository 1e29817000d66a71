import Foundation
import Testing

@Suite("Test harness threads", .harnessThreads)
struct HarnessThreadsTests {
    @Test("a test body runs on a harness thread, and its blocking waits leave Swift's cooperative pool free")
    func blockingLeavesPoolFree() async {
        #expect(HarnessExecutor.onHarnessThread)
        // One blocked child task more than the cooperative pool has threads; only a task on that pool
        // releases them. On the pool itself they would hold every thread and time out.
        let blockers = ProcessInfo.processInfo.activeProcessorCount + 1
        let release = DispatchSemaphore(value: 0)
        let released = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<blockers { group.addTask { release.wait(timeout: .now() + 10) == .success } }
            Task.detached { for _ in 0..<blockers { release.signal() } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(released == blockers)
    }

    @Test("every suite runs on the harness threads")
    func everySuiteCarriesTheTrait() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
        var missing: [String] = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for line in text.components(separatedBy: "\n") where line.contains("@Suite") && !line.contains(".harnessThreads")
                && !line.contains("contains(") {
                missing.append("\(file.lastPathComponent): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(files.count > 50)
        #expect(missing.isEmpty, "suites without .harnessThreads: \(missing)")
    }
}
