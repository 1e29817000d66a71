import ArgumentParser
import ControlProtocol
import Foundation

/// `hpmanagerctl hash-token`: the salted hash to put under `http.tokens` in collector.yml.
/// Without --token (or `-` for stdin) it makes a new random token and prints it once, on stderr.
struct HashToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash-token",
        abstract: "Print the salted hash of an API token for collector.yml (makes a new token when none is given)."
    )

    @Option(help: "The token to hash; '-' reads it from stdin. Omit to generate a new random token.")
    var token: String?

    func run() throws {
        var value: String
        switch token {
        case "-"?:
            value = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            while value.hasSuffix("\n") || value.hasSuffix("\r") { value.removeLast() }
        case let given?: value = given
        case nil:
            value = APITokenHash.newToken()
            FileHandle.standardError.write(Data("token (shown once; give it to the client): \(value)\n".utf8))
        }
        guard value.utf8.count >= 16 else {
            FileHandle.standardError.write(Data("hpmanagerctl: a token must be at least 16 characters\n".utf8))
            throw ExitCode(64)
        }
        print(APITokenHash.hash(value))
    }
}
