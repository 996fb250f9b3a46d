// Meridian's own script, beside htmx. One behaviour: a form that sends a file shows how much of
// it has gone. Its `.upload-status` (the form's htmx indicator) holds a <progress class="upload">
// that fills as the file is sent; once it is all sent the status gets `data-sent` and its text
// says the server is working on it (app.css). Without this script the form works the same.
"use strict";
(() => {
  const uploadStatus = (event) =>
    event.target instanceof HTMLFormElement
      ? event.target.querySelector(".upload-status")
      : null;

  document.addEventListener("htmx:beforeRequest", (event) => {
    const status = uploadStatus(event);
    if (!status) return;
    status.removeAttribute("data-sent");
    const bar = status.querySelector("progress.upload");
    if (bar) {
      bar.max = 1;
      bar.value = 0;
    }
  });

  // htmx reports the request's progress (the upload) and then the response's under the same
  // name; the upload's ends first, and what comes after it is not the file's.
  document.addEventListener("htmx:xhr:progress", (event) => {
    const status = uploadStatus(event);
    const { lengthComputable, loaded, total } = event.detail;
    if (!status || status.hasAttribute("data-sent") || !lengthComputable) return;
    const bar = status.querySelector("progress.upload");
    if (bar) {
      bar.max = total;
      bar.value = loaded;
    }
    if (loaded >= total) status.setAttribute("data-sent", "");
  });

  document.addEventListener("htmx:xhr:loadend", (event) => {
    uploadStatus(event)?.setAttribute("data-sent", "");
  });
})();
