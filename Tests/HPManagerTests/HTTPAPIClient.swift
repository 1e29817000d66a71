import Foundation

/// A real HTTP client for the API tests: the system's curl, one process per request.
struct HTTPAPIClient {
    struct Reply {
        var status: Int
        var body: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed]) }
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
        var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    }

    var base: String
    var token: String?

    func call(_ method: String, _ path: String, json: String? = nil, token override: String? = nil, maxTime: Double = 10) throws -> Reply {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var args = ["-s", "-S", "-X", method, "--max-time", "\(maxTime)", "-o", "-", "-w", "\n%{http_code}"]
        if let bearer = override ?? token { args += ["-H", "Authorization: Bearer \(bearer)"] }
        if json != nil { args += ["-H", "Content-Type: application/json", "--data-binary", "@-"] }
        args.append(base + path)
        process.arguments = args
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        if let json { input.fileHandleForWriting.write(Data(json.utf8)) }
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var text = String(decoding: data, as: UTF8.self)
        guard let newline = text.lastIndex(of: "\n") else { return Reply(status: 0, body: text) }
        let status = Int(text[text.index(after: newline)...]) ?? 0
        text = String(text[..<newline])
        return Reply(status: status, body: text)
    }

    func get(_ path: String) throws -> Reply { try call("GET", path) }
}
