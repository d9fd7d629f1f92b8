// Default configuration of the qr-upload pages. Empty strings mean "same origin":
//   apiBase  -> location.origin
//   wsUrl    -> ws(s)://location.host/ws
//   phoneUrl -> location.origin + "/phone.html"
// `qr-upload serve` answers /config.js with its own public URLs; the AWS deploy overwrites this file.
window.QR_UPLOAD_CONFIG = {
  apiBase: "",
  wsUrl: "",
  phoneUrl: "",
  maxUploadBytes: 26214400
};
