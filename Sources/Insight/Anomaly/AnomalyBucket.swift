import Foundation

/// The band a poll's baseline is kept in: outdoor temperature in 5 K bands when the model names an
/// outdoor sensor (heating load, and with it flow temperature, power and flow, follows it), else the
/// time of day in 3-hour blocks. Eight bands either way, so the state has one shape.
public enum AnomalyBucket {
    public static let count = 8

    /// Below −10 °C, −10…−5, −5…0, 0…5, 5…10, 10…15, 15…20, 20 °C and above.
    public static func outdoor(_ celsius: Double) -> Int {
        guard celsius.isFinite else { return 0 }
        return Int(max(0, min(7, ((celsius + 15) / 5).rounded(.down))))
    }

    /// 00–03 h … 21–24 h of local time (`utcOffset` seconds east of UTC).
    public static func timeOfDay(_ time: Double, utcOffset: Int) -> Int {
        let local = (time + Double(utcOffset)).truncatingRemainder(dividingBy: 86_400)
        let seconds = local < 0 ? local + 86_400 : local
        return Int(max(0, min(7, (seconds / 10_800).rounded(.down))))
    }

    /// How the band reads in an alert: "0–5 °C outdoor", "06–09 h".
    public static func label(_ bucket: Int, outdoor: Bool) -> String {
        if outdoor {
            switch bucket {
            case 0: return "below −10 °C outdoor"
            case 7: return "20 °C and above outdoor"
            default: return "\(-15 + 5 * bucket)–\(-10 + 5 * bucket) °C outdoor"
            }
        }
        return String(format: "%02d–%02d h", bucket * 3, bucket * 3 + 3)
    }
}
