import Foundation
@testable import Sinks
import SQLiteKit
import Testing
import TestSupport

@Suite("Influx spool (SQLite)")
struct InfluxSpoolTests {
    @Test("FIFO order, bound by size with the oldest batches dropped and counted, state survives reopening")
    func bounded() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-spool")
        let path = dir.file("spool.db")
        let line = String(repeating: "x", count: 100)
        do {
            let spool = try InfluxSpool(path: path, maxBytes: 1000)
            for batch in 0..<5 { try spool.append((0..<2).map { "b\(batch) \(line)\($0)" }) }  // ~206 bytes each
            #expect(spool.batches == 4 && spool.points == 8, "one batch over the bound was dropped")
            #expect(spool.droppedPoints == 2)
            let oldest = try #require(try spool.oldest())
            #expect(oldest.lines.hasPrefix("b1 "), "the oldest batch went first")
            try spool.delete(oldest)
            try spool.deadLetter(status: 400, message: "field type conflict", lines: ["bad line"])
        }
        let reopened = try InfluxSpool(path: path, maxBytes: 1000)
        #expect(reopened.batches == 3 && reopened.points == 6)
        #expect(try reopened.oldest()?.lines.hasPrefix("b2 ") == true)
        let db = try SQLiteDatabase(path: path)
        #expect(try db.query("SELECT status, message FROM dead_letters").first.map { [$0[0].int.map(String.init), $0[1].string] } == ["400", "field type conflict"])
    }
}
