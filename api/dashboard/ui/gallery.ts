/** The outputs of recently completed jobs: images shown, video and audio playable, everything downloadable. */
import type { GalleryItem } from "../protocol.ts";
import { h, shortId } from "./dom.ts";
import { directUrl, mediaSrc } from "./session.ts";

/** The file's name, without the query a signed output URL carries. */
const fileName = (url: string) => url.split("?")[0]!.split("/").pop() || "output";

function download(item: GalleryItem): HTMLElement {
  const name = fileName(item.url);
  const a = h("a", { href: item.url, download: name, class: "dl" }, "download");
  // An unsigned link with auth on needs the Authorization header, which a plain link cannot send.
  a.addEventListener("click", (e) => {
    if (directUrl(item.url)) return;
    e.preventDefault();
    void mediaSrc(item.url).then((src) => {
      const tmp = h("a", { href: src, download: name });
      document.body.append(tmp);
      tmp.click();
      tmp.remove();
    });
  });
  return a;
}

function media(item: GalleryItem): HTMLElement {
  if (item.kind === "image") {
    const img = h("img", { alt: `${item.type} output of ${item.job}`, loading: "lazy" });
    void mediaSrc(item.url).then(
      (s) => {
        img.src = s;
      },
      () => {
        img.alt = "could not load";
      },
    );
    return img;
  }
  if (item.kind === "video" || item.kind === "audio") {
    const el = h(item.kind, { controls: true, preload: "none" });
    if (directUrl(item.url)) el.src = item.url;
    else {
      // Fetched only when asked for: a video can be large, and the gallery holds many.
      const load = h("button", { type: "button", class: "load" }, `load ${item.kind}`);
      load.addEventListener(
        "click",
        () =>
          void mediaSrc(item.url).then((s) => {
            el.src = s;
            load.remove();
            void el.play();
          }),
      );
      return h("div", { class: "media" }, el, load);
    }
    return el;
  }
  return h("span", { class: "file" }, fileName(item.url));
}

let shown: string | null = null;

export function drawGallery(host: HTMLElement, items: GalleryItem[]): void {
  const key = items.map((i) => i.url).join("\n");
  if (key === shown) return;
  shown = key;
  if (items.length === 0) {
    host.replaceChildren(h("p", { class: "muted" }, "no outputs among the recent jobs"));
    return;
  }
  host.replaceChildren(
    ...items.map((i) =>
      h(
        "figure",
        { class: `out ${i.kind}`, "data-url": i.url },
        media(i),
        h("figcaption", {}, h("span", {}, i.type), h("span", { class: "jid", title: i.job }, shortId(i.job)), download(i)),
      ),
    ),
  );
}
