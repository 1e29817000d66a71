import Foundation
import SQLiteKit

/// The notification outbox: written at once (not batched), so a message survives a crash right
/// after it was decided; read and updated by the notifier's channel loops.
extension SQLiteStore {
    /// Stores one message per channel; returns their ids.
    @discardableResult
    public func enqueueNotification(_ notification: AlertNotification, channels: [String]) async throws -> [Int64] {
        let body = String(decoding: try JSONEncoder().encode(notification), as: UTF8.self)
        let title = notification.title
        return try await onStore { db in
            try db.transaction {
                try channels.map { channel in
                    try db.run("""
                        INSERT INTO notifications (created_at, channel, route, group_key, status, severity, title, body, next_attempt_at)
                        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?1)
                        """, [.real(notification.createdAt), .text(channel), .text(notification.route), .text(notification.groupKey),
                              .text(notification.status), .text(notification.severity), .text(title), .text(body)])
                    return db.lastInsertRowID
                }
            }
        }
    }

    /// The oldest pending message of `channel` (messages of a channel go out in order).
    public func nextNotification(channel: String) async throws -> OutboxMessage? {
        try await onStore { db in
            try db.query("\(Self.outboxColumns) WHERE channel = ?1 AND state = 'pending' ORDER BY id LIMIT 1", [.text(channel)]).first.flatMap(Self.message)
        }
    }

    /// Records an attempt and its effect on the message.
    public func recordNotificationAttempt(id: Int64, channel: String, outcome: DeliveryOutcome, at: Double, nextAttemptAt: Double) async throws {
        try await onStore { db in
            try db.transaction {
                try db.run("""
                    INSERT INTO notification_attempts (notification_id, at, channel, ok, http_status, error, duration) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                    """, [.integer(id), .real(at), .text(channel), .integer(outcome.kind == .delivered ? 1 : 0),
                          SQLiteValue(outcome.httpStatus), .text(outcome.error), .real(outcome.duration)])
                let state: String
                switch outcome.kind {
                case .delivered: state = "sent"
                case .refused: state = "failed"
                case .retry: state = "pending"
                }
                try db.run("""
                    UPDATE notifications SET attempts = attempts + 1, state = ?2, last_error = ?3, next_attempt_at = ?5,
                      done_at = CASE WHEN ?2 = 'pending' THEN NULL ELSE ?4 END WHERE id = ?1
                    """, [.integer(id), .text(state), .text(outcome.error), .real(at), .real(nextAttemptAt)])
            }
        }
    }

    /// Enforces the outbox bounds: pending messages older than `maxAge` are dropped, then rows
    /// beyond `maxRows` go, finished ones first, then the oldest pending. Returns the pending
    /// messages dropped per channel.
    public func pruneNotifications(now: Double, maxAge: Double, maxRows: Int) async throws -> [String: Int] {
        try await onStore { db in
            try db.transaction {
                var dropped: [String: Int] = [:]
                for row in try db.query("SELECT channel, COUNT(*) FROM notifications WHERE state = 'pending' AND created_at < ?1 GROUP BY channel", [.real(now - maxAge)]) {
                    if let channel = row[0].string, case .integer(let n) = row[1] { dropped[channel, default: 0] += Int(n) }
                }
                try db.run("""
                    UPDATE notifications SET state = 'dropped', done_at = ?1, last_error = 'older than notify.outbox.max_age'
                    WHERE state = 'pending' AND created_at < ?2
                    """, [.real(now), .real(now - maxAge)])
                let total = try db.query("SELECT COUNT(*) FROM notifications").first.flatMap { row -> Int? in
                    if case .integer(let n) = row[0] { return Int(n) } else { return nil }
                } ?? 0
                var excess = total - maxRows
                if excess > 0 {
                    try db.run("DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE state != 'pending' ORDER BY id LIMIT ?1)", [.integer(Int64(excess))])
                    excess -= db.changes
                }
                if excess > 0 {
                    for row in try db.query("SELECT channel FROM notifications WHERE state = 'pending' ORDER BY id LIMIT ?1", [.integer(Int64(excess))]) {
                        if let channel = row[0].string { dropped[channel, default: 0] += 1 }
                    }
                    try db.run("DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE state = 'pending' ORDER BY id LIMIT ?1)", [.integer(Int64(excess))])
                }
                try db.run("DELETE FROM notification_attempts WHERE notification_id NOT IN (SELECT id FROM notifications)")
                return dropped
            }
        }
    }

    /// Messages waiting for delivery, per channel.
    public func pendingNotifications() async throws -> [String: Int] {
        try await onStore { db in
            var result: [String: Int] = [:]
            for row in try db.query("SELECT channel, COUNT(*) FROM notifications WHERE state = 'pending' GROUP BY channel") {
                if let channel = row[0].string, case .integer(let n) = row[1] { result[channel] = Int(n) }
            }
            return result
        }
    }

    /// The newest `limit` messages (optionally of one channel), newest first, with their attempts.
    public func notifications(limit: Int, channel: String?) async throws -> [(OutboxMessage, [OutboxAttempt])] {
        try await onStore { db in
            let messages = try db.query("\(Self.outboxColumns) WHERE (?1 IS NULL OR channel = ?1) ORDER BY id DESC LIMIT ?2",
                                        [SQLiteValue(channel), .integer(Int64(limit))]).compactMap(Self.message)
            return try messages.map { m in
                let attempts = try db.query("""
                    SELECT notification_id, at, channel, ok, http_status, error, duration FROM notification_attempts WHERE notification_id = ?1 ORDER BY id
                    """, [.integer(m.id)]).map { r in
                    OutboxAttempt(notificationID: m.id, at: r[1].double ?? 0, channel: r[2].string ?? "", ok: r[3].double == 1,
                                  httpStatus: r[4].double.map { Int($0) }, error: r[5].string ?? "", duration: r[6].double ?? 0)
                }
                return (m, attempts)
            }
        }
    }

    static let outboxColumns = """
        SELECT id, created_at, channel, route, group_key, status, severity, title, body, state, attempts, next_attempt_at, last_error, done_at FROM notifications
        """

    static func message(_ r: [SQLiteValue]) -> OutboxMessage? {
        guard case .integer(let id) = r[0] else { return nil }
        return OutboxMessage(id: id, createdAt: r[1].double ?? 0, channel: r[2].string ?? "", route: r[3].string ?? "", groupKey: r[4].string ?? "",
                             status: r[5].string ?? "", severity: r[6].string ?? "", title: r[7].string ?? "", body: r[8].string ?? "",
                             state: r[9].string ?? "", attempts: Int(r[10].double ?? 0), nextAttemptAt: r[11].double ?? 0,
                             lastError: r[12].string ?? "", doneAt: r[13].double)
    }
}
