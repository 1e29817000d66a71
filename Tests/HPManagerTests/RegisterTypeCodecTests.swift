@testable import Drivers
import Foundation
import HPCore
import Logging
@testable import Sinks
import Testing
import TestSupport

/// Unit level for `string`, `bit` and `float16`: decoding rules, write refusals, and how each sink
/// exports text (Influx string field, `heatpump_<name>_info{value="…"} 1`, readings JSON).
@Suite("String, bit and float16 decoding, encoding and export", .harnessThreads)
struct RegisterTypeCodecTests {
    static func text(_ length: Int, order: ByteOrder = .abcd) -> RegisterDefinition {
        var r = RegisterDefinition(name: "firmware", address: 0, dataType: .string, byteOrder: order)
        r.length = length
        return r
    }

    @Test("strings: high byte first, BADC/DCBA swap bytes within words, CDAB keeps word order; NULs and spaces trimmed")
    func strings() {
        let words: [UInt16] = [0x4142, 0x4320, 0x2000, 0x0000]  // "ABC   " + NULs
        #expect(RegisterDecoder.decode(Self.text(4), index: 0, words: words[...])?.value == .string("ABC"))
        #expect(RegisterDecoder.decode(Self.text(4, order: .cdab), index: 0, words: words[...])?.value == .string("ABC"))
        let swapped: [UInt16] = [0x4241, 0x2043]
        #expect(RegisterDecoder.decode(Self.text(2, order: .badc), index: 0, words: swapped[...])?.value == .string("ABC"))
        #expect(RegisterDecoder.decode(Self.text(2, order: .dcba), index: 0, words: swapped[...])?.value == .string("ABC"))
        // Only `length` registers are read; an interior space and a leading one stay.
        let longer: [UInt16] = [0x2041, 0x2042, 0x4344]
        #expect(RegisterDecoder.decode(Self.text(2), index: 0, words: longer[...])?.value == .string(" A B"))
        // All padding: an empty string, still a sample (the register answered).
        let blank: [UInt16] = [0x0000, 0x2020]
        #expect(RegisterDecoder.decode(Self.text(2), index: 0, words: blank[...])?.value == .string(""))
        // Too few words: no sample.
        #expect(RegisterDecoder.decode(Self.text(4), index: 0, words: words[..<3]) == nil)
    }

    @Test("invalid UTF-8 in a string register becomes U+FFFD instead of dropping the value")
    func invalidUTF8() {
        let words: [UInt16] = [0x41FF, 0xC342]  // 'A', a stray 0xFF, a truncated 2-byte lead, 'B'
        let sample = RegisterDecoder.decode(Self.text(2), index: 0, words: words[...])
        #expect(sample?.value == .string("A\u{FFFD}\u{FFFD}B"))
        var samples: [Sample] = []
        RegisterDecoder.decode(Self.text(2), index: 3, words: words[...], into: &samples)
        #expect(samples.map(\.register) == [3] && samples.first?.value == sample?.value)
    }

    @Test("bit: n takes that bit of the byte-order adjusted word; a sentinel word gives no sample")
    func bits() {
        var r = RegisterDefinition(name: "pump", address: 0, dataType: .uint16, unavailable: [65535])
        let word: [UInt16] = [0b0000_0000_0000_1000]
        r.bit = 3
        #expect(RegisterDecoder.decode(r, index: 0, words: word[...])?.value == .bool(true))
        r.bit = 4
        #expect(RegisterDecoder.decode(r, index: 0, words: word[...])?.value == .bool(false))
        r.byteOrder = .badc
        r.bit = 11
        #expect(RegisterDecoder.decode(r, index: 0, words: word[...])?.value == .bool(true), "0x0008 byte-swapped is 0x0800")
        let na: [UInt16] = [0xFFFF]
        #expect(RegisterDecoder.decode(r, index: 0, words: na[...]) == nil)
        #expect(throws: RegisterEncoder.Rejected.self) {
            var writable = r
            writable.access = .readWrite
            _ = try RegisterEncoder.encode(writable, text: "1")
        }
    }

    static let halves: [(UInt16, Double)] = [
        (0x0000, 0), (0x3C00, 1), (0xC000, -2), (0x3555, 0.333251953125), (0x7BFF, 65504), (0x0400, 0x1p-14),
        (0x03FF, 0x1p-14 - 0x1p-24), (0x0001, 0x1p-24), (0xCA30, -12.375), (0x4D40, 21),
    ]

    @Test("float16 decodes normal, subnormal and extreme values; infinities and NaN give no sample")
    func halfDecode() {
        for (bits, want) in Self.halves {
            let r = RegisterDefinition(name: "t", address: 0, dataType: .float16)
            #expect(RegisterDecoder.decode(r, index: 0, words: [bits][...])?.value == .double(want), "\(String(bits, radix: 16))")
        }
        for bits: UInt16 in [0x7C00, 0xFC00, 0x7E00] {
            #expect(RegisterDecoder.decode(RegisterDefinition(name: "t", address: 0, dataType: .float16), index: 0, words: [bits][...]) == nil)
        }
        // Byte order applies as to any 16-bit register.
        let swapped = RegisterDefinition(name: "t", address: 0, dataType: .float16, byteOrder: .badc)
        #expect(RegisterDecoder.decode(swapped, index: 0, words: [0x30CA][...])?.value == .double(-12.375))
    }

    @Test("float16 writes: exact bits for representable values, nearest half otherwise, refusals past 65504 and below 6e-8")
    func halfEncode() throws {
        let r = RegisterDefinition(name: "t", address: 0, dataType: .float16, access: .readWrite)
        for (bits, value) in Self.halves {
            #expect(try RegisterEncoder.encode(r, text: "\(value)").payload == .words([bits]), "\(value)")
        }
        #expect(try RegisterEncoder.encode(r, text: "-0").payload == .words([0x8000]))
        #expect(try RegisterEncoder.encode(r, text: "21.3").payload == .words([0x4D53]), "21.3 → 21.296875, the nearest half")
        #expect(try RegisterEncoder.encode(r, text: "21.3").value == 21.296875, "the value written, so the read-back matches exactly")
        #expect(try RegisterEncoder.encode(r, text: "65519").payload == .words([0x7BFF]), "below the midpoint: 65504")
        #expect(try RegisterEncoder.encode(r, text: "2047.5").payload == .words([0x6800]), "carry into the next exponent: 2048")
        for text in ["65520", "-70000", "1e10", "1e-9", "-2e-8"] {
            #expect(throws: RegisterEncoder.Rejected.self, "\(text)") { _ = try RegisterEncoder.encode(r, text: text) }
        }
        do {
            _ = try RegisterEncoder.encode(r, text: "70000")
        } catch let error as RegisterEncoder.Rejected {
            #expect(error.message == "70000.0 does not fit a float16 register of t (largest magnitude 65504.0)")
        }
        // Scaled: the raw value is what must fit.
        var scaled = r
        scaled.scale = 0.01
        #expect(throws: RegisterEncoder.Rejected.self) { _ = try RegisterEncoder.encode(scaled, text: "700") }
        #expect(try RegisterEncoder.encode(scaled, text: "600").payload == .words([0x7B53]))
    }

    @Test("string registers refuse writes with the register's name")
    func stringWrite() {
        var r = Self.text(4)
        r.access = .readWrite
        do {
            _ = try RegisterEncoder.encode(r, text: "abc")
            Issue.record("a string write was accepted")
        } catch {
            #expect("\(error)" == "register firmware holds text; string registers cannot be written")
        }
    }

    @Test("text is an Influx string field, a *_info series with an escaped value label, and a JSON string")
    func export() throws {
        let text = "v2.1 \"beta\"\\n\nx"
        let samples = [Sample(register: 0, name: "firmware", value: .string(text)), Sample(register: 1, name: "pump", value: .bool(true))]
        let device = DeviceLabels(id: "hp1", name: "HP", location: "", model: "m", manufacturer: "")
        let report = PollReport(device: device, timestamp: 1, samples: samples,
                                status: DeviceStatus(state: .polling, up: true, lastSuccess: 1, pollInterval: 1))
        let line = try #require(LineProtocol.line(report, precision: .s, fieldTypes: .native))
        #expect(line.hasSuffix(#" firmware="v2.1 \"beta\"\\n x",pump=true 1"#), "\(line)")

        let dir = try TemporaryDirectory()
        let sink = MetricsFileSink(path: dir.file("out.prom"), interval: .seconds(1), version: "test", logger: Logger(label: "t"))
        sink.updateModels(["m": ModelDefinition(name: "m", registers: [Self.text(8), RegisterDefinition(name: "pump", address: 9)])])
        let now = Date().timeIntervalSince1970
        var live = report
        live.timestamp = now
        live.status.lastSuccess = now
        sink.publish(live)
        let metrics = sink.render(now: now)
        #expect(metrics.contains(#"heatpump_firmware_info{heatpump_id="hp1",name="HP",location="",model="m",manufacturer="",value="v2.1 \"beta\"\\n\nx"} 1"#), "\(metrics)")
        #expect(!metrics.contains("heatpump_firmware{"), "text has no numeric series")
        #expect(metrics.contains("# TYPE heatpump_firmware_info gauge"))
        let (status, output) = try Promtool.check(metrics)
        #expect(status == 0, "\(output)")

        let json = try #require(try JSONSerialization.jsonObject(with: Data(ReadingJSON.encode(samples).utf8)) as? [String: Any])
        #expect(json["firmware"] as? String == text)
    }
}
