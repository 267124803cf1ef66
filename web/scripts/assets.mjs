// The scripts and stylesheets a page loads, as Chromium's network domain reports them (for the
// benches' first-load sizes): a map of request id to { url, type, transferred }.
export function recordAssets(cdp) {
  const assets = new Map();
  cdp.on("Network.responseReceived", (e) => {
    if (e.type === "Script" || e.type === "Stylesheet") assets.set(e.requestId, { url: e.response.url, type: e.type });
  });
  cdp.on("Network.loadingFinished", (e) => {
    const asset = assets.get(e.requestId);
    if (asset) asset.transferred = e.encodedDataLength;
  });
  return assets;
}
