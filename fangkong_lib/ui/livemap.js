// The live map's front end (fangkong_lib/ui/livemap.py): shows the sandboxed
// map iframe from the `document` trait and posts each `update` into it, so a
// filter change restyles the map's layers instead of reloading the document.
// Marks its element with the update wanted (data-fk-live-wanted) and the one
// the map has applied (data-fk-live-version), so a reader can wait for the map.
export default {
  render({ model, el }) {
    let frame = null;
    el.classList.add("fk-live-map");

    function version() {
      const update = model.get("update");
      return update && update.version != null ? String(update.version) : "";
    }

    function send() {
      const update = model.get("update");
      el.dataset.fkLiveWanted = version();
      if (frame && frame.contentWindow && update && update.version != null) {
        // the frame is sandboxed without allow-same-origin: its origin is opaque, hence "*"
        frame.contentWindow.postMessage({ type: "fk-live-map", update: update }, "*");
      }
    }

    function show() {
      delete el.dataset.fkLiveVersion;
      el.dataset.fkLiveWanted = version();
      el.innerHTML = model.get("document");  // views/maps.map_iframe: escaped, sandboxed
      frame = el.querySelector("iframe");
    }

    function onMessage(event) {
      if (!frame || event.source !== frame.contentWindow) return;  // only our own map
      const data = event.data;
      if (!data || typeof data !== "object") return;
      if (data.type === "fk-live-ready") {
        send();
      } else if (data.type === "fk-live-applied" && data.version != null) {
        el.dataset.fkLiveVersion = String(data.version);
        frame.dataset.fkLiveVersion = String(data.version);
      }
    }

    window.addEventListener("message", onMessage);
    model.on("change:document", show);
    model.on("change:update", send);
    show();
    return () => {
      window.removeEventListener("message", onMessage);
      model.off("change:document", show);
      model.off("change:update", send);
    };
  },
};
