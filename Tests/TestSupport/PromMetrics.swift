/// A tiny parser of Prometheus text format for assertions: samples with labels and values.
public struct PromMetrics: Sendable {
    public struct Sample: Sendable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    public let text: String
    public let samples: [Sample]

    public init(_ text: String) {
        self.text = text
        var samples: [Sample] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            var name = String(series)
            var labels: [String: String] = [:]
            if let brace = series.firstIndex(of: "{") {
                name = String(series[..<brace])
                labels = Self.parseLabels(String(series[series.index(after: brace)..<series.index(before: series.endIndex)]))
            }
            samples.append(Sample(name: name, labels: labels, value: value))
        }
        self.samples = samples
    }

    static func parseLabels(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var chars = Array(text)[...]
        while !chars.isEmpty {
            guard let eq = chars.firstIndex(of: "=") else { break }
            let key = String(chars[chars.startIndex..<eq]).trimmingCharacters(in: [" ", ","])
            var i = eq + 2  // skip ="
            var value = ""
            while i < chars.endIndex && chars[i] != "\"" {
                if chars[i] == "\\" && i + 1 < chars.endIndex {
                    let next = chars[i + 1]
                    value.append(next == "n" ? "\n" : next)
                    i += 2
                } else {
                    value.append(chars[i])
                    i += 1
                }
            }
            result[key] = value
            chars = chars[min(i + 1, chars.endIndex)...]
        }
        return result
    }

    public func values(_ name: String, where match: [String: String] = [:]) -> [Double] {
        samples.filter { s in s.name == name && match.allSatisfy { s.labels[$0.key] == $0.value } }.map(\.value)
    }

    public func value(_ name: String, _ match: [String: String] = [:]) -> Double? {
        values(name, where: match).first
    }

    public func has(_ name: String, _ match: [String: String] = [:]) -> Bool { value(name, match) != nil }
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let first = s.first, set.contains(first) { s = s.dropFirst() }
        while let last = s.last, set.contains(last) { s = s.dropLast() }
        return String(s)
    }
}
