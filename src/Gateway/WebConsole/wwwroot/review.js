// The review page (queue, detail, decisions) on console.js.
