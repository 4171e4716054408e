/** A child of `el`: strings become text nodes (never markup); null, undefined and false are skipped. */
export type Child = Node | string | null | undefined | false;

export interface ElementProps {
  /** The element's class attribute. */
  class?: string;
  /** Attributes, set with setAttribute; event-handler attributes (`on…`) are refused. */
  attrs?: Record<string, string | number | boolean | undefined>;
  /** Listeners, added with addEventListener. */
  on?: Partial<{ [K in keyof HTMLElementEventMap]: (event: HTMLElementEventMap[K]) => void }>;
}

/**
 * Creates an element. Text only ever goes in as text nodes, so user data (usernames, titles,
 * messages) can never become markup: this is the page's only way to build DOM.
 */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElementProps = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class !== undefined) element.className = props.class;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (/^on/i.test(name)) throw new Error(`el: refusing the event-handler attribute ${name}; use props.on`);
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [type, listener] of Object.entries(props.on ?? {})) {
    element.addEventListener(type, listener as EventListener);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

/** Replaces an element's children with text (or nothing). */
export function setText(element: Element, text: string): void {
  element.textContent = text;
}
