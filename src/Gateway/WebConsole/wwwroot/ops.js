// The operations page on console.js.
