import DCApplySlurm
import Testing

struct HostlistTests {
    @Test(arguments: [
        ("gpu-r01-n[01-03,05]", ["gpu-r01-n01", "gpu-r01-n02", "gpu-r01-n03", "gpu-r01-n05"]),
        ("login1,gpu-r01-n[09-10]", ["login1", "gpu-r01-n09", "gpu-r01-n10"]),
        ("n[8-10]", ["n8", "n9", "n10"]),
        ("r[1-2]n[1-2]", ["r1n1", "r1n2", "r2n1", "r2n2"]),
        ("(null)", []),
        ("", []),
        ("solo", ["solo"]),
    ])
    func expandsSlurmHostlists(hostlist: String, names: [String]) throws {
        #expect(try Hostlist.expand(hostlist) == names)
    }

    @Test(arguments: ["n[01-03", "n[3-1]", "n[a-b]", "n]"])
    func rejectsBrokenHostlists(hostlist: String) {
        #expect(throws: Hostlist.SyntaxError.self) { try Hostlist.expand(hostlist) }
    }

    @Test(arguments: [
        (["gpu-r01-n05", "gpu-r01-n01", "gpu-r01-n03", "gpu-r01-n02"], "gpu-r01-n[01-03,05]"),
        (["n9", "n10", "n11"], "n[9-11]"),
        (["a1", "b1", "a2"], "a[1-2],b1"),
        (["login", "n01"], "login,n01"),
        (["n01", "n01"], "n01"),
        (["n1", "n01"], "n[1,01]"),
        ([], ""),
    ])
    func compressesLikeScontrol(names: [String], hostlist: String) {
        #expect(Hostlist.compress(names) == hostlist)
    }

    @Test func roundTripsAThousandNodes() throws {
        let names = (1...40).flatMap { rack in (1...25).map { "gpu-r\(rack < 10 ? "0" : "")\(rack)-n\($0 < 10 ? "0" : "")\($0)" } }
        let compressed = Hostlist.compress(names.filter { !$0.hasSuffix("n13") })
        #expect(compressed.count < 1_000)
        #expect(Set(try Hostlist.expand(compressed)) == Set(names.filter { !$0.hasSuffix("n13") }))
    }
}
