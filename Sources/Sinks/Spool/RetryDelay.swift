import Foundation

/// How long a sink waits before its next delivery attempt (Influx and remote write share it).
enum RetryDelay {
    /// Seconds until the next attempt: exponential (jittered) up to `interval`, at least the
    /// server's Retry-After, never more than `max` (a Retry-After of 99999999999 must not stop delivery).
    static func seconds(failures: Int, retryAfter: Double?, interval: Double, max cap: Double, jitter: Double) -> Double {
        let exponential = min(interval, pow(2, Double(min(Swift.max(failures, 1) - 1, 20)))) * jitter
        return min(Swift.max(exponential, retryAfter ?? 0), cap)
    }

    /// Remote write's `min_backoff`/`max_backoff`: `min` doubling per failure (jittered), at least the
    /// server's Retry-After, never more than `max`.
    static func doubling(failures: Int, retryAfter: Double?, min minimum: Double, max cap: Double, jitter: Double) -> Double {
        let exponential = Swift.min(cap, minimum * pow(2, Double(Swift.min(Swift.max(failures, 1) - 1, 30)))) * jitter
        return Swift.min(Swift.max(exponential, retryAfter ?? 0), cap)
    }
}
