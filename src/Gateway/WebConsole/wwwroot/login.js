// The sign-in page: carries the page asked for through the form, and says when a key was refused.
(() => {
  const query = new URLSearchParams(location.search);
  document.getElementById('returnUrl').value = query.get('returnUrl') || '/console/review';
  if (query.get('error')) {
    document.getElementById('error').hidden = false;
  }
})();
