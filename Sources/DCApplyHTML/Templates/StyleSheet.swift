/// The pages' one stylesheet, inlined into every page (no network, readable in grey: every state
/// has a symbol as well as a colour).
enum StyleSheet {
    static let css = """
        :root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --bg: #ffffff; --panel: #f6f8fa;
          --d0: #e8eef5; --d1: #c6dbef; --d2: #9ecae1; --d3: #fdae6b; --d4: #e6550d;
          --failed: #b30000; --degraded: #f0b400; --off: #8c959f; }
        * { box-sizing: border-box; }
        body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
        header.top { padding: .75rem 1rem; border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: .5rem 2rem; align-items: baseline; }
        header.top h1 { font-size: 1.25rem; margin: 0; }
        .muted { color: var(--muted); }
        main { padding: 0 1rem 2rem; }
        .layout { display: grid; grid-template-columns: minmax(0, 1fr) 22rem; gap: 1rem; align-items: start; }
        @media (max-width: 900px) { .layout { grid-template-columns: 1fr; } }
        h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
        .controls { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; margin: .5rem 0; }
        fieldset { border: 1px solid var(--line); padding: .25rem .75rem; margin: 0; }
        .legend { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; padding: 0; margin: .25rem 0; font-size: 12px; }
        .legend li { display: flex; align-items: center; gap: .3rem; }
        .swatch { display: inline-block; min-width: 1.4rem; height: 1.1rem; border: 1px solid var(--line); text-align: center; font-size: 11px; line-height: 1.1rem; }
        .domain { border: 1px solid var(--line); border-radius: 6px; padding: .4rem; margin: .3rem; background: var(--bg); }
        .domain > .children { display: flex; flex-wrap: wrap; align-items: flex-start; }
        .domain-site { background: var(--panel); }
        .domain h3 { font-size: 12px; margin: 0 0 .25rem; font-weight: 600; }
        .domain.draw-changed > h3::after { content: " ⚡ draw changes"; color: var(--d4); font-weight: 400; }
        .bar { display: flex; align-items: center; gap: .4rem; font-size: 11px; margin-bottom: .3rem; }
        .bar meter { width: 7rem; height: .8rem; }
        .over-cap .bar { color: var(--failed); font-weight: 600; }
        .cells { display: grid; grid-template-columns: repeat(auto-fill, 6.8rem); gap: 3px; }
        .node { position: relative; font: 11px/1.2 ui-monospace, monospace; height: 2.2rem; width: 6.8rem; padding: 1px 3px; text-align: left;
          border: 2px solid transparent; border-radius: 3px; background: var(--d0); color: var(--fg); cursor: pointer; overflow: hidden; }
        .node .nm { display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
        .node .sym { font-weight: 700; }
        .node:focus-visible, .node.selected { outline: 3px solid #0969da; outline-offset: 1px; z-index: 1; }
        .d1 { background: var(--d1); } .d2 { background: var(--d2); } .d3 { background: var(--d3); } .d4 { background: var(--d4); color: #fff; }
        body:has(#colour-gpu:checked) .node.g0 { background: var(--d0); color: var(--fg); }
        body:has(#colour-gpu:checked) .node.g1 { background: var(--d1); color: var(--fg); }
        body:has(#colour-gpu:checked) .node.g2 { background: var(--d2); color: var(--fg); }
        body:has(#colour-gpu:checked) .node.g3 { background: var(--d3); color: var(--fg); }
        body:has(#colour-gpu:checked) .node.g4 { background: var(--d4); color: #fff; }
        .node.s-failed, body:has(#colour-gpu:checked) .node.s-failed { background: var(--failed); color: #fff; }
        .node.s-degraded, body:has(#colour-gpu:checked) .node.s-degraded { background: repeating-linear-gradient(45deg, var(--degraded) 0 6px, #ffe08a 6px 12px); color: var(--fg); }
        .node.s-off, body:has(#colour-gpu:checked) .node.s-off { background: #fff; color: var(--off); border-style: dashed; border-color: var(--off); }
        .p0 { border-color: #6f42c1; } .p1 { border-color: #1a7f37; } .p2 { border-color: #0550ae; } .p3 { border-color: #bc4c00; }
        .p4 { border-color: #cf222e; } .p5 { border-color: #116329; } .p6 { border-color: #8250df; } .p7 { border-color: #953800; }
        .node.chg { box-shadow: 0 0 0 2px #000, 0 0 0 4px #fff; }
        .node .chg-sym { position: absolute; right: 2px; bottom: 1px; font-weight: 700; background: #000; color: #fff; border-radius: 2px; padding: 0 2px; }
        .node.dim { opacity: .15; }
        .compact .cells { grid-template-columns: repeat(auto-fill, 1.1rem); gap: 2px; }
        .compact .node { width: 1.1rem; height: 1.1rem; padding: 0; border-width: 1px; font-size: 9px; text-align: center; }
        .compact .node .nm { display: none; }
        .compact .node .chg-sym { right: 0; bottom: 0; font-size: 8px; padding: 0; }
        aside.side { position: sticky; top: .5rem; display: flex; flex-direction: column; gap: .75rem; }
        .panel { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; background: var(--panel); }
        .panel h2 { margin-top: .25rem; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem; margin: 0; }
        dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
        #detail dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .6rem; margin: 0; }
        #detail dt { color: var(--muted); } #detail dd { margin: 0; overflow-wrap: anywhere; }
        #detail ul { margin: 0; padding-left: 1rem; }
        table { border-collapse: collapse; width: 100%; font-size: 13px; }
        th, td { border-bottom: 1px solid var(--line); padding: .2rem .4rem; text-align: left; vertical-align: top; }
        .ok::before { content: "✓ "; color: #1a7f37; } .bad::before { content: "✕ "; color: var(--failed); }
        .sev-error { color: var(--failed); } .sev-error::before { content: "✕ "; } .sev-warning::before { content: "! "; }
        .changes td.mark { font: 600 13px ui-monospace, monospace; }
        .neutral::before { content: "· "; }
        .refused { border-left: 4px solid var(--failed); padding-left: .5rem; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        code, .rev { font-family: ui-monospace, monospace; font-size: 12px; }
        """
}
