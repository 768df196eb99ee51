/// The two pages: a plan (`dcapply plan --output html`) and serve's live status page, with the
/// tables they share.
enum PageTemplates {
    /// Context: a `PlanPage`.
    static let plan = """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}}</title><style>{{{css}}}</style></head>
        <body class="plan-page">
        <header class="top"><h1>{{title}}</h1><p id="summary">{{summary}}</p>
        <p class="muted">Revision <span class="rev">{{revision}}</span> · state serial {{stateSerial}} · hardware observed <time datetime="{{observedAt}}">{{observedAt}}</time></p></header>
        <main>
        <div class="layout"><div>
        {{> map}}
        <section aria-labelledby="changes-title"><h2 id="changes-title">Changes ({{changeCount}})</h2>
        {{#hasChanges}}<table class="changes"><thead><tr><th scope="col"><span class="visually-hidden">Kind</span></th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col">Detail</th><th scope="col">Reason</th></tr></thead><tbody>
        {{#changes}}<tr><td class="mark" aria-label="{{markWords}}">{{mark}}</td><td>{{action}}</td><td><code>{{resource}}</code></td><td>{{detail}}</td><td>{{reason}}</td></tr>
        {{/changes}}</tbody></table>{{/hasChanges}}
        {{^hasChanges}}<p>No changes. The site matches the manifests.</p>{{/hasChanges}}
        {{#hasHiddenChanges}}<p class="muted">… and {{hiddenChanges}} more changes; the JSON plan (<code>--output json</code>) lists them all.</p>{{/hasHiddenChanges}}
        </section>
        {{> problems}}
        </div>
        <aside class="side">
        {{> detail}}
        {{> energy}}
        {{> tables}}
        </aside></div>
        </main>
        {{> data}}
        <script>{{{script}}}</script>
        </body></html>
        """

    /// Context: a `StatusPage`. Everything that changes lives in `#live`, which the script swaps.
    static let status = """
        <!DOCTYPE html>
        <html lang="en">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}}</title><style>{{{css}}}</style></head>
        <body class="status-page" data-poll="{{pollSeconds}}" data-pass="{{passKey}}">
        <div id="live">
        <header class="top"><h1>{{title}}</h1>
        {{#gitops}}<p>Applied <span class="rev">{{lastAppliedShort}}</span>{{#hasRefused}} · <strong class="sev-error">revision <span class="rev">{{refusedShort}}</span> refused</strong>{{/hasRefused}}</p>{{/gitops}}
        <p>Data as of <time id="data-time" datetime="{{generatedAt}}">{{generatedAt}}</time> · <span id="checked-at" class="muted">refreshes every {{pollSeconds}} s</span></p></header>
        <main>
        <div class="layout"><div>
        {{#hasMap}}{{> map}}{{> problems}}{{/hasMap}}
        {{^hasMap}}<p id="no-map">No revision has been read yet: the map appears after the first successful pass.</p>{{/hasMap}}
        {{#gitops}}{{> gitops}}{{/gitops}}
        </div>
        <aside class="side">
        {{> detail}}
        {{#hasMap}}{{> energy}}{{> tables}}{{/hasMap}}
        </aside></div>
        </main>
        {{> data}}
        </div>
        <script>{{{script}}}</script>
        </body></html>
        """

    /// Context: a `GitOpsPanel`.
    static let gitops = """
        <section class="panel" id="gitops" aria-labelledby="gitops-title"><h2 id="gitops-title">GitOps</h2>
        <dl class="facts">
        <dt>Following</dt><dd><code>{{branch}}</code> of <code>{{repository}}</code>{{#hasPath}} (path <code>{{path}}</code>){{/hasPath}}</dd>
        <dt>Last applied revision</dt><dd id="last-applied" class="rev">{{lastApplied}}</dd>
        <dt>Last attempted revision</dt><dd id="last-attempted" class="rev">{{lastAttempted}}</dd>
        <dt>Passes</dt><dd id="pass-count">{{reconcileCount}}{{#hasReconciled}}, the last at <time>{{lastReconcile}}</time>{{/hasReconciled}}</dd>
        <dt>Drift</dt><dd id="drift">{{drift}}</dd>
        <dt>Audit log</dt><dd id="audit" class="{{auditClass}}">{{audit}}</dd>
        </dl>
        {{#hasRefused}}<div class="refused" id="refused" role="alert"><strong>✕ Revision <span class="rev">{{refusedRevision}}</span> refused.</strong> {{refusedReason}}</div>{{/hasRefused}}
        {{#hasError}}<p id="last-error" class="sev-error">Last error: {{lastError}}</p>{{/hasError}}
        <h3>Conditions</h3>
        <table id="conditions"><thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Message</th><th scope="col">Since</th></tr></thead><tbody>
        {{#conditions}}<tr><td>{{type}}</td><td class="{{mood}}">{{status}}</td><td>{{reason}}</td><td>{{message}}</td><td><time>{{since}}</time></td></tr>{{/conditions}}
        </tbody></table>
        <h3>Last applies</h3>
        {{#hasHistory}}<table id="history"><thead><tr><th scope="col">#</th><th scope="col">Finished</th><th scope="col">Revision</th><th scope="col">By</th><th scope="col">Result</th><th scope="col">Summary</th></tr></thead><tbody>
        {{#history}}<tr><td>{{id}}</td><td><time>{{finished}}</time></td><td class="rev">{{revision}}</td><td>{{actor}}</td><td>{{status}}</td><td>{{summary}}</td></tr>{{/history}}
        </tbody></table>{{/hasHistory}}{{^hasHistory}}<p>None yet.</p>{{/hasHistory}}
        </section>
        """

    /// Context: a page with `summaryTables`.
    static let problems = """
        <section aria-labelledby="problems-title"><h2 id="problems-title">Problems</h2>
        {{#summaryTables}}{{#hasProblems}}<ul id="problems">{{#problems}}<li class="sev-{{severity}}"><strong>{{severity}}</strong> <code>{{resource}}</code>: {{message}}</li>{{/problems}}</ul>{{/hasProblems}}
        {{^hasProblems}}<p id="problems">None.</p>{{/hasProblems}}{{/summaryTables}}
        </section>
        """

    /// Context: a page with `energy`.
    static let energy = """
        {{#energy}}<section class="panel" aria-labelledby="energy-title"><h2 id="energy-title">Energy</h2>
        <dl class="facts"><dt>Now</dt><dd id="energy-now">{{now}}</dd><dt>Planned</dt><dd id="energy-planned">{{planned}}</dd>
        <dt>Lower bound</dt><dd>{{lowerBound}}</dd><dt>Powered nodes</dt><dd>{{poweredNodes}}</dd></dl></section>{{/energy}}
        """

    /// Context: a page with `summaryTables`.
    static let tables = """
        {{#summaryTables}}
        <section class="panel" aria-labelledby="pools-title"><h2 id="pools-title">Pools</h2>
        <table id="pools"><thead><tr><th scope="col">Pool</th><th scope="col">Nodes</th><th scope="col">GPUs</th></tr></thead><tbody>
        {{#pools}}<tr><td><span class="swatch {{outline}}" style="border-width:3px" aria-hidden="true"></span> {{name}}</td><td>{{nodes}}</td><td>{{gpus}}</td></tr>{{/pools}}
        </tbody></table></section>
        <section class="panel" aria-labelledby="workloads-title"><h2 id="workloads-title">Workloads</h2>
        <table id="workloads"><thead><tr><th scope="col">Workload</th><th scope="col">Pool</th><th scope="col">Placed</th></tr></thead><tbody>
        {{#workloads}}<tr><td>{{name}}</td><td>{{pool}}</td><td class="{{#complete}}ok{{/complete}}{{^complete}}bad{{/complete}}">{{placed}} of {{wanted}}{{^complete}}; {{unplaced}} unplaced: {{reason}}{{/complete}}</td></tr>{{/workloads}}
        </tbody></table></section>
        <section class="panel" aria-labelledby="tiers-title"><h2 id="tiers-title">Storage tiers</h2>
        <table id="tiers"><thead><tr><th scope="col">Tier</th><th scope="col">Raw TiB</th><th scope="col">Usable TiB</th><th scope="col">Met</th></tr></thead><tbody>
        {{#tiers}}<tr><td>{{name}} <span class="muted">({{media}}, {{protection}})</span></td><td>{{rawTiB}}</td><td>{{usableTiB}}</td><td class="{{#satisfied}}ok{{/satisfied}}{{^satisfied}}bad{{/satisfied}}">{{#satisfied}}yes{{/satisfied}}{{^satisfied}}no{{/satisfied}}</td></tr>{{/tiers}}
        </tbody></table></section>
        {{/summaryTables}}
        """

    /// The node details as JSON for the script.
    static let data = """
        <script type="application/json" id="node-data">{{{detailsJSON}}}</script>
        """
}
