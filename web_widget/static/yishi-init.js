/* The demo page's init call; a host page writes its own with the options in the README. */
Yishi.init({title: "一事 · 办事助手"});
