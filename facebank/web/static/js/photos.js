// A drop zone that takes one or several photos by drag-and-drop or the file picker, with
// previews. Pages read the chosen files from it; they never leave the browser until sent.
import { h, replace } from "./dom.js";

// Makes `zone` take dropped files: marked .dragging while something is over it, and
// `handle(FileList)` called with what is dropped.
export function onDrop(zone, handle) {
  for (const kind of ["dragenter", "dragover"]) {
    zone.addEventListener(kind, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  }
  for (const kind of ["dragleave", "drop"]) {
    zone.addEventListener(kind, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    const files = event.dataTransfer?.files;
    if (files?.length) handle(files);
  });
}

export class PhotoPicker {
  // `input` is the <input type=file> inside the drop zone element `zone`; `previews` the
  // element that lists chosen photos.
  constructor(zone, { multiple = true, onChange = () => {} } = {}) {
    this.zone = zone;
    this.input = zone.querySelector('input[type="file"]');
    this.previews = zone.querySelector(".previews");
    this.multiple = multiple;
    this.onChange = onChange;
    this.files = [];
    this.urls = [];
    this.input.multiple = multiple;
    this.input.addEventListener("change", () => this.add([...this.input.files]));
    onDrop(zone, (files) => this.add([...files]));
  }

  add(files) {
    const photos = files.filter((f) => f.type.startsWith("image/") || f.type === "");
    this.files = this.multiple ? [...this.files, ...photos] : photos.slice(0, 1);
    this.input.value = "";
    this.render();
    this.onChange(this.files);
  }

  remove(index) {
    this.files.splice(index, 1);
    this.render();
    this.onChange(this.files);
  }

  clear() {
    this.files = [];
    this.render();
    this.onChange(this.files);
  }

  render() {
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = this.files.map((f) => URL.createObjectURL(f));
    if (!this.previews) return;
    replace(this.previews, this.files.map((file, i) =>
      h("figure", { class: "preview" },
        h("img", { src: this.urls[i], alt: `preview of ${file.name}` }),
        h("figcaption", { text: `${i + 1}. ${file.name}` }),
        h("button", { type: "button", class: "link", "aria-label": `Remove ${file.name}`,
          onclick: () => this.remove(i), text: "Remove" }))));
  }
}
