import ControlProtocol
import Foundation

/// Checks a token file named by a live settings change before anything is stored: it must resolve
/// (symlinks followed) inside one of `roots` — the configuration directory, systemd's
/// `$CREDENTIALS_DIRECTORY`, or the directory of collector.yml's own token_file — so an API
/// caller cannot make the daemon send an arbitrary file of the machine to a URL of their choice;
/// and it must be a readable, non-empty regular file of at most 64 KiB. Blocking file calls: run
/// it on an I/O strand, never on the cooperative pool. The token itself is never returned or logged.
enum TokenFileCheck {
    static let maxBytes = 65_536

    static func check(_ path: String, roots: [String], key: String) throws {
        guard let resolved = realPath(path) else {
            throw CommandError(.badRequest, "\(key): \(path) does not exist or cannot be resolved", field: key)
        }
        let allowed = roots.compactMap(realPath).filter { !$0.isEmpty }
        guard allowed.contains(where: { resolved == $0 || resolved.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            throw CommandError(.badRequest, "\(key): \(path) is outside the directories a token file may live in (\(allowed.joined(separator: ", ")))",
                               field: key)
        }
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: resolved)
        } catch {
            throw CommandError(.badRequest, "\(key): cannot stat \(path)", field: key)
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw CommandError(.badRequest, "\(key): \(path) is not a regular file", field: key)
        }
        guard let size = attributes[.size] as? Int, size <= maxBytes else {
            throw CommandError(.badRequest, "\(key): \(path) is larger than \(maxBytes) bytes", field: key)
        }
        guard let text = try? String(contentsOfFile: resolved, encoding: .utf8) else {
            throw CommandError(.badRequest, "\(key): cannot read \(path) as UTF-8 text (check its permissions)", field: key)
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CommandError(.badRequest, "\(key): \(path) is empty", field: key)
        }
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
