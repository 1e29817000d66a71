/// The per-device facts a metrics rewrite reads on every line, copied once per rewrite into flat
/// columns: all label sets in one byte array, all numbers of number-only devices in one `Double`
/// array, each with its row offsets.
///
/// A rewrite at 10,000 devices writes ~1.2 million lines. Read through each row's own arrays, every
/// line retained and released the row and its arrays (perf: ~17 % of the rewrite's samples in
/// `swift_retain`/`swift_release`); read through a `View`'s unsafe buffers it touches no reference
/// count. The copies cost two `memcpy`s per device per rewrite.
struct RowColumns {
    private var labelBytes: [UInt8] = []
    /// Row `i`'s labels are `labelBytes[labelStart[i]..<labelStart[i + 1]]`.
    private var labelStart: [Int] = [0]
    private var numbers: [Double] = []
    /// Row `i`'s numbers (when it is `plain`) start at `numberStart[i]`.
    private var numberStart: [Int] = [0]
    /// Whether row `i` has numbers only (no text, enum labels, bits or template instances).
    private var plain: [Bool]

    /// One row per label set and summary; a summary's numbers are copied only when it is `plain`
    /// (the only rows whose lines read them).
    init(labels: [[UInt8]], summaries: [SampleSummary]) {
        plain = summaries.map(\.plain)
        labelBytes.reserveCapacity(labels.reduce(0) { $0 + $1.count })
        labelStart.reserveCapacity(labels.count + 1)
        numbers.reserveCapacity(summaries.reduce(0) { $0 + ($1.plain ? $1.numbers.count : 0) })
        numberStart.reserveCapacity(summaries.count + 1)
        for row in labels {
            labelBytes.append(contentsOf: row)
            labelStart.append(labelBytes.count)
        }
        for summary in summaries {
            if summary.plain { numbers.append(contentsOf: summary.numbers) }
            numberStart.append(numbers.count)
        }
    }

    /// Read access for the hot loops; valid only inside `withView`'s closure.
    struct View {
        fileprivate let labelBytes: UnsafeBufferPointer<UInt8>
        fileprivate let labelStart: UnsafeBufferPointer<Int>
        fileprivate let numbers: UnsafeBufferPointer<Double>
        fileprivate let numberStart: UnsafeBufferPointer<Int>
        fileprivate let plainRows: UnsafeBufferPointer<Bool>

        /// Whether row `row` has numbers only (its lines come from `number`).
        @inline(__always)
        func plain(_ row: Int) -> Bool { plainRows[row] }

        /// Row `row`'s label bytes.
        @inline(__always)
        func labels(_ row: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: labelBytes[labelStart[row]..<labelStart[row + 1]])
        }

        /// Sample `sample` of row `row` as a number (rows given numbers only).
        @inline(__always)
        func number(_ row: Int, _ sample: Int) -> Double {
            numbers[numberStart[row] + sample]
        }
    }

    func withView<T>(_ body: (View) throws -> T) rethrows -> T {
        try labelBytes.withUnsafeBufferPointer { labelBytes in
            try labelStart.withUnsafeBufferPointer { labelStart in
                try numbers.withUnsafeBufferPointer { numbers in
                    try numberStart.withUnsafeBufferPointer { numberStart in
                        try plain.withUnsafeBufferPointer { plain in
                            try body(View(labelBytes: labelBytes, labelStart: labelStart, numbers: numbers, numberStart: numberStart, plainRows: plain))
                        }
                    }
                }
            }
        }
    }
}
