import CurlKit
import Foundation
import HPCore

/// Delivers outbox messages to one channel. Confined to the channel's I/O strand (libcurl blocks
/// there, never on the cooperative pool); the secret is read from its file or environment
/// variable for every attempt (a rotated token is picked up without a restart).
///
/// `@unchecked Sendable`: the curl clients are created and used only by jobs of the one strand
/// the notifier gives this sender, which run one at a time.
final class ChannelSender: @unchecked Sendable {
    let channel: NotifyChannel
    private let version: String
    private let shouldAbort: @Sendable () -> Bool
    private var http: CurlHTTPClient?
    private var smtp: CurlSMTPClient?

    init(channel: NotifyChannel, version: String, shouldAbort: @escaping @Sendable () -> Bool) {
        self.channel = channel
        self.version = version
        self.shouldAbort = shouldAbort
    }

    /// Releases the curl clients (an SMTP connection's QUIT waits for the server, up to the
    /// channel's timeout): call it on the strand, not wherever the sender is released last.
    func close() {
        http = nil
        smtp = nil
    }

    /// One attempt; blocks up to the channel's timeout.
    func deliver(_ message: OutboxMessage, now: Double) -> DeliveryOutcome {
        let started = Date()
        func elapsed() -> Double { Date().timeIntervalSince(started) }
        let notification: AlertNotification
        do {
            notification = try JSONDecoder().decode(AlertNotification.self, from: Data(message.body.utf8))
        } catch {
            return DeliveryOutcome(kind: .refused, error: "unreadable outbox entry: \(error)")
        }
        let secret: String?
        do {
            secret = try channel.kind == .email
                ? Self.secret(file: channel.passwordFile, env: channel.passwordEnv, what: "password")
                : Self.secret(file: channel.tokenFile, env: channel.tokenEnv, what: "token")
        } catch {
            return DeliveryOutcome(kind: .retry, error: "\(error)", duration: elapsed())
        }
        do {
            switch try NotificationRequest.build(notification, id: message.id, channel: channel, token: secret, now: now, version: version) {
            case .http(let url, let headers, let body):
                let client = try httpClient()
                let response = try client.post(url: url, body: body, headers: headers)
                let excerpt = String(response.body.prefix(200))
                switch response.status {
                case 200..<300: return DeliveryOutcome(kind: .delivered, httpStatus: response.status, duration: elapsed())
                case 408, 429, 500...599, 0..<200, 300..<400:
                    return DeliveryOutcome(kind: .retry, httpStatus: response.status, error: "HTTP \(response.status): \(excerpt)",
                                           retryAfter: response.retryAfter, duration: elapsed())
                default:
                    return DeliveryOutcome(kind: .refused, httpStatus: response.status, error: "HTTP \(response.status): \(excerpt)", duration: elapsed())
                }
            case .mail(let from, let to, let mail):
                let client = try smtpClient()
                let reply = try client.send(url: channel.url, from: from, to: to, message: mail,
                                            username: channel.username.isEmpty ? nil : channel.username, password: secret)
                return DeliveryOutcome(kind: .delivered, httpStatus: reply, duration: elapsed())
            }
        } catch let error as SMTPError {
            return DeliveryOutcome(kind: error.isPermanent ? .refused : .retry, httpStatus: error.reply > 0 ? error.reply : nil,
                                   error: error.description, duration: elapsed())
        } catch {
            return DeliveryOutcome(kind: .retry, error: "\(error)", duration: elapsed())
        }
    }

    private func httpClient() throws -> CurlHTTPClient {
        if let http { return http }
        let client = try CurlHTTPClient(options: .init(timeout: channel.timeout, caFile: channel.caFile.isEmpty ? nil : channel.caFile,
                                                       insecureSkipVerify: channel.insecureSkipVerify, maxBodyBytes: 16 * 1024, shouldAbort: shouldAbort))
        http = client
        return client
    }

    private func smtpClient() throws -> CurlSMTPClient {
        if let smtp { return smtp }
        let client = try CurlSMTPClient(options: .init(timeout: channel.timeout, caFile: channel.caFile.isEmpty ? nil : channel.caFile,
                                                       insecureSkipVerify: channel.insecureSkipVerify,
                                                       requireTLS: channel.starttls || channel.url.hasPrefix("smtps://"), shouldAbort: shouldAbort))
        smtp = client
        return client
    }

    /// The secret from its file (trimmed) or environment variable; nil when none is configured.
    /// Errors name the file or variable, never the content.
    static func secret(file: String, env: String, what: String) throws -> String? {
        if !file.isEmpty {
            do {
                return try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw NotifySecretError(message: "cannot read the \(what) file \(file)")
            }
        }
        if !env.isEmpty {
            guard let value = ProcessInfo.processInfo.environment[env], !value.isEmpty else {
                throw NotifySecretError(message: "the \(what) environment variable \(env) is not set")
            }
            return value
        }
        return nil
    }
}

/// A secret that could not be read (names where it was looked for, never its content).
struct NotifySecretError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
