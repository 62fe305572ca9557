/// The values a request parameter may take, and the one used when it is absent.
package struct ParameterBounds<Value: Comparable & Sendable>: Sendable {
    /// The accepted values, bounds included.
    package let range: ClosedRange<Value>
    /// The value used when the parameter is not given (within `range`).
    package let defaultValue: Value
}
