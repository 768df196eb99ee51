@testable import DCApplyRedfish
import Testing

/// Inputs the fuzzers found (Fuzz/regressions), as unit tests of the mapper.
@Suite struct NodeMapperFindingsTests {
    /// `Int(1e300)` trapped: a Chassis Location number that is not a whole Int is no label.
    @Test func aChassisPlacementNumberOutOfIntRangeIsNoLabel() {
        let chassis = JSONValue.object(["Location": .object([
            "Placement": .object(["Rack": .number(1e300), "Row": .number(7.9)]),
            "PostalAddress": .object(["Room": .number(-.infinity), "Floor": .number(.nan), "Building": .number(-3)]),
        ])])
        #expect(NodeMapper.chassisLabels(chassis) == ["row": "7", "building": "-3"])
    }
}
