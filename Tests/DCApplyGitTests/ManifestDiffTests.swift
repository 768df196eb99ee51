import DCApplyCore
import DCApplyGit
import Testing

@Suite("Manifest diff: resources and fields between two revisions")
struct ManifestDiffTests {
    static let pool = """
        apiVersion: dcapply/v1
        kind: HardwarePool
        metadata:
          name: train-h100
        spec:
          site: lab
          size: {gpus: 256}
          failureDomains: [rack]
        """

    @Test func reportsAFieldChangeWithItsPath() {
        let base = [SourceFile(path: "m/pool.yaml", text: Self.pool)]
        let head = [SourceFile(path: "m/pool.yaml", text: Self.pool.replacingOccurrences(of: "gpus: 256", with: "gpus: 384"))]
        let changes = ManifestDiff.compare(base: base, head: head)
        #expect(changes.count == 1)
        #expect(changes[0].resource == "HardwarePool/train-h100")
        #expect(changes[0].kind == .modified)
        #expect(changes[0].fields == [ManifestDiff.FieldChange(path: "spec.size.gpus", before: "256", after: "384")])
        #expect(changes[0].location == SourceLocation(file: "m/pool.yaml", line: 1, column: 1))
    }

    @Test func reportsAddedAndRemovedResourcesAndIgnoresMovesBetweenFiles() {
        let other = Self.pool.replacingOccurrences(of: "train-h100", with: "infer")
        let base = [SourceFile(path: "a.yaml", text: Self.pool + "\n---\n" + other)]
        let head = [SourceFile(path: "b.yaml", text: Self.pool), SourceFile(path: "c.yaml", text: other.replacingOccurrences(of: "infer", with: "serve"))]
        let changes = ManifestDiff.compare(base: base, head: head)
        #expect(changes.map(\.resource) == ["HardwarePool/infer", "HardwarePool/serve"])
        #expect(changes.map(\.kind) == [.removed, .added])
        #expect(changes[1].fields.contains(ManifestDiff.FieldChange(path: "spec.size.gpus", before: nil, after: "256")))
    }

    @Test func comparesNamedListItemsByName() {
        let inventory = """
            apiVersion: dcapply/v1
            kind: Inventory
            nodes:
              - {name: n1, health: healthy}
              - {name: n2, health: healthy}
            """
        let edited = """
            apiVersion: dcapply/v1
            kind: Inventory
            nodes:
              - {name: n0, health: healthy}
              - {name: n1, health: healthy}
              - {name: n2, health: failed}
            """
        let changes = ManifestDiff.compare(base: [SourceFile(path: "inv.yaml", text: inventory)], head: [SourceFile(path: "inv.yaml", text: edited)])
        #expect(changes.map(\.resource) == ["Inventory/inv.yaml"])
        #expect(changes[0].fields == [
            .init(path: "nodes[n0].health", before: nil, after: "healthy"),
            .init(path: "nodes[n0].name", before: nil, after: "n0"),
            .init(path: "nodes[n2].health", before: "healthy", after: "failed"),
        ])
    }

    @Test func unchangedManifestsGiveNoChanges() {
        let files = [SourceFile(path: "m/pool.yaml", text: Self.pool)]
        #expect(ManifestDiff.compare(base: files, head: files).isEmpty)
        let reformatted = [SourceFile(path: "m/pool.yaml", text: "# a comment\n" + Self.pool.replacingOccurrences(of: "size: {gpus: 256}", with: "size:\n    gpus: 256"))]
        #expect(ManifestDiff.compare(base: files, head: reformatted).isEmpty)
    }
}

@Suite("Webhook signatures (HMAC-SHA256)")
struct WebhookSignatureTests {
    let signature = WebhookSignature(secret: "It's a Secret to Everybody\n")

    @Test func acceptsGitHubsDocumentedExample() {
        // The example in GitHub's "Validating webhook deliveries".
        let expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        #expect(signature.sign(Array("Hello, World!".utf8)) == expected)
        #expect(signature.isValid("sha256=" + expected, body: Array("Hello, World!".utf8)))
        #expect(signature.isValid(expected.uppercased(), body: Array("Hello, World!".utf8)))
    }

    @Test(arguments: [nil, "", "sha256=", "sha256=00", "sha256=zz", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18"])
    func refusesMissingMalformedOrWrongSignatures(_ header: String?) {
        #expect(!signature.isValid(header, body: Array("Hello, World!".utf8)))
    }
}

@Suite("Which revision a GitOps pass reconciles")
struct RevisionChoiceTests {
    @Test(arguments: [
        ("b", nil, nil, RevisionChoice.reconcile("b", isNew: true)),
        ("b", "a", nil, .reconcile("b", isNew: true)),
        ("a", "a", nil, .reconcile("a", isNew: false)),
        ("b", "a", "b", .reconcile("a", isNew: false)),
        ("b", nil, "b", .wait),
        ("c", "a", "b", .reconcile("c", isNew: true)),
    ] as [(String, String?, String?, RevisionChoice)])
    func refusedHeadsAreNotRetriedAndTheLastGoodRevisionIsKept(head: String, applied: String?, refused: String?, expected: RevisionChoice) {
        #expect(RevisionChoice.choose(head: head, applied: applied, refused: refused) == expected)
    }
}
