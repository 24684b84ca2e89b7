// Nothing dynamic: this file is here so the demo fetches a script too.
document.documentElement.dataset.loaded = "yes";
