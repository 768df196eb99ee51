/// The site map's templates: the map with its controls and legend, one failure domain
/// (recursive), and the node details as JSON.
enum MapTemplates {
    /// Context: a `MapView` (the `SiteMap`, `compact`, `detailsJSON`).
    static let map = """
        <section class="map-section" aria-labelledby="map-title">
        <h2 id="map-title">Site map</h2>
        <div class="controls">
        <fieldset><legend>Colour cells by</legend>
        <label><input type="radio" name="colour" id="colour-draw" value="draw" checked> estimated draw</label>
        <label><input type="radio" name="colour" id="colour-gpu" value="gpu"> GPU use</label>
        </fieldset>
        <label>Pool <select id="pool-filter"><option value="">all pools</option>{{#map.pools}}<option value="{{name}}">{{name}}</option>{{/map.pools}}</select></label>
        </div>
        <ul class="legend" aria-label="Legend">
        <li><span class="swatch" style="background:var(--d0)"></span>idle</li><li><span class="swatch" style="background:var(--d2)"></span>half</li><li><span class="swatch" style="background:var(--d4)"></span>full</li>
        <li><span class="swatch" style="background:var(--failed);color:#fff">✕</span>failed</li>
        <li><span class="swatch" style="background:var(--degraded)">!</span>degraded</li>
        <li><span class="swatch" style="border:1px dashed var(--off)">○</span>powered off</li>
        <li><span class="swatch" style="background:#000;color:#fff">+</span>gains work</li><li><span class="swatch" style="background:#000;color:#fff">−</span>loses work</li>
        <li><span class="swatch" style="background:#000;color:#fff">⇄</span>work moves</li><li><span class="swatch" style="background:#000;color:#fff">~</span>other change</li>
        {{#map.pools}}<li><span class="swatch {{outline}}" style="border-width:3px"></span>pool {{name}}</li>{{/map.pools}}
        </ul>
        <div id="map" class="map{{#compact}} compact{{/compact}}" data-nodes="{{map.nodeCount}}">
        {{#map.sites}}{{> domain}}{{/map.sites}}
        </div>
        </section>
        """

    /// Context: a `DomainBlock`; every field it reads is on the block, so the recursion ends at
    /// an empty `children`.
    static let domain = """
        <section class="domain domain-{{kind}} {{classes}}" data-domain="{{kind}}" data-value="{{value}}" aria-label="{{title}}, {{nodeCount}} nodes">
        <h3>{{title}} <span class="muted">({{nodeCount}})</span></h3>
        {{#hasBar}}<div class="bar">{{#bar}}<meter min="0" max="{{maxW}}" high="{{highW}}" optimum="0" value="{{drawW}}" aria-label="{{text}}"></meter><span>{{#overCap}}⚠ over cap: {{/overCap}}{{text}}</span>{{#drawChanged}} <span class="muted">({{beforeText}})</span>{{/drawChanged}}{{/bar}}</div>{{/hasBar}}
        {{#hasChildren}}<div class="children">{{#children}}{{> domain}}{{/children}}</div>{{/hasChildren}}
        {{#hasCells}}<div class="cells">{{#cells}}<button class="node {{classes}}" id="node-{{name}}" aria-label="{{label}}">{{#hasSymbol}}<span class="sym" aria-hidden="true">{{symbol}}</span>{{/hasSymbol}}{{^compact}}<span class="nm">{{name}}</span>{{/compact}}{{#changed}}<span class="chg-sym" aria-hidden="true">{{changeSymbol}}</span>{{/changed}}</button>{{/cells}}</div>{{/hasCells}}
        </section>
        """

    /// The node detail pane (filled by the script).
    static let detail = """
        <section class="panel" aria-labelledby="detail-title">
        <h2 id="detail-title">Node</h2>
        <div id="detail" aria-live="polite"><p class="muted">Click or focus a node (Tab, then the arrow keys) to see its labels, GPUs, pool, replicas, drives, power, health and source.</p></div>
        </section>
        """
}
