package main

// image-libs: the container image cannot be built here (no Docker engine), so this checks the
// part most likely to break silently: that the Dockerfile's runtime stage installs exactly the
// Debian packages holding the shared libraries the binaries load. It also checks the recipe's
// shape: a build stage apart from the runtime stage, which runs as a numeric non-root user and
// has a HEALTHCHECK, and that the build stage copies every directory the top-level
// CMakeLists.txt adds unconditionally (or configuring fails). Each library `ldd` resolves
// is mapped to its package with `dpkg -S` on this (Debian 12) machine, the same release as the
// image. A library whose package the stage lacks fails the check, and so does a package that
// provides none of the libraries.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func runImageLibs(dockerfile, cmakeLists string, binaries, expectedProblems []string) error {
	if dockerfile == "" || len(binaries) == 0 {
		return fmt.Errorf("-dockerfile and at least one -binary are required")
	}
	instructions, err := readInstructions(dockerfile)
	if err != nil {
		return err
	}
	runtime, stages := lastStage(instructions)
	if stages == 0 {
		return fmt.Errorf("%s has no FROM", dockerfile)
	}
	packages, err := runtimePackages(dockerfile, runtime)
	if err != nil {
		return err
	}
	fmt.Printf("runtime stage packages: %s\n", strings.Join(sortedKeys(packages), " "))

	var problems failures
	checkRecipe(dockerfile, runtime, stages, &problems)
	if cmakeLists != "" {
		if err := checkSourcesCopied(dockerfile, cmakeLists, instructions, &problems); err != nil {
			return err
		}
	}
	used := map[string]bool{}
	for _, binary := range binaries {
		libraries, err := sharedLibraries(binary)
		if err != nil {
			return err
		}
		ownersOf, err := packageOwners(libraries)
		if err != nil {
			return err
		}
		for _, library := range libraries {
			owners := ownersOf[library]
			if len(owners) == 0 {
				problems.add("%s loads %s, which no Debian package owns", filepath.Base(binary),
					library)
				continue
			}
			covered := false
			for _, owner := range owners {
				if packages[owner] {
					used[owner] = true
					covered = true
				}
			}
			fmt.Printf("%s: %s <- %s\n", filepath.Base(binary), filepath.Base(library),
				strings.Join(owners, ", "))
			if !covered {
				problems.add("%s loads %s from package %s, which %s does not install in its "+
					"runtime stage: add it there", filepath.Base(binary), library,
					strings.Join(owners, " or "), dockerfile)
			}
		}
	}
	for _, name := range sortedKeys(packages) {
		if !used[name] {
			problems.add("%s installs %s in its runtime stage, but no binary loads a library "+
				"from it: remove it", dockerfile, name)
		}
	}
	return problems.against(expectedProblems)
}

// readInstructions returns the Dockerfile's instructions, continuation lines joined and
// comments left out.
func readInstructions(dockerfile string) ([]string, error) {
	file, err := os.Open(dockerfile)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var instructions []string
	var current strings.Builder
	scanner := bufio.NewScanner(file)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if strings.HasPrefix(line, "#") {
			continue // comments, also those inside a continued instruction
		}
		if continued := strings.HasSuffix(line, "\\"); continued {
			current.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		current.WriteString(line)
		if text := strings.TrimSpace(current.String()); text != "" {
			instructions = append(instructions, text)
		}
		current.Reset()
	}
	return instructions, scanner.Err()
}

// lastStage returns the instructions of the last stage (from its FROM) and how many stages
// there are.
func lastStage(instructions []string) ([]string, int) {
	start, stages := -1, 0
	for i, instruction := range instructions {
		if strings.EqualFold(strings.Fields(instruction)[0], "FROM") {
			start = i
			stages++
		}
	}
	if start < 0 {
		return nil, 0
	}
	return instructions[start:], stages
}

// checkRecipe: a multi-stage build whose runtime stage runs as a numeric non-root user (so that
// Kubernetes can check runAsNonRoot) and has a HEALTHCHECK.
func checkRecipe(dockerfile string, runtime []string, stages int, problems *failures) {
	if stages < 2 {
		problems.add("%s has one stage: build in a stage of its own, so that the image holds "+
			"no compiler or sources", dockerfile)
	}
	user, health := "", ""
	for _, instruction := range runtime {
		fields := strings.Fields(instruction)
		switch strings.ToUpper(fields[0]) {
		case "USER":
			user = strings.Join(fields[1:], " ")
		case "HEALTHCHECK":
			health = strings.Join(fields[1:], " ")
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		problems.add("%s: the runtime stage's USER is %q; it needs a numeric UID other than 0",
			dockerfile, user)
	}
	if health == "" || strings.EqualFold(health, "NONE") {
		problems.add("%s: the runtime stage has no HEALTHCHECK", dockerfile)
	}
}

// checkSourcesCopied: every directory that `cmakeLists` adds with an add_subdirectory() at the
// start of a line (not indented, so not inside an if() that the image's options turn off) is
// copied by a COPY of the Dockerfile, or the build stage cannot configure.
func checkSourcesCopied(dockerfile, cmakeLists string, instructions []string,
	problems *failures) error {
	text, err := os.ReadFile(cmakeLists)
	if err != nil {
		return err
	}
	copied := map[string]bool{}
	for _, instruction := range instructions {
		fields := strings.Fields(instruction)
		if !strings.EqualFold(fields[0], "COPY") || strings.HasPrefix(fields[1], "--from") {
			continue
		}
		for _, source := range fields[1 : len(fields)-1] {
			top, _, _ := strings.Cut(strings.TrimPrefix(source, "./"), "/")
			copied[top] = true
		}
	}
	for _, line := range strings.Split(string(text), "\n") {
		if !strings.HasPrefix(line, "add_subdirectory(") {
			continue
		}
		directory, _, _ := strings.Cut(strings.TrimPrefix(line, "add_subdirectory("), ")")
		top, _, _ := strings.Cut(strings.TrimSpace(directory), "/")
		if !copied[top] {
			problems.add("%s: the build stage does not copy %s/, which %s adds: COPY it",
				dockerfile, top, filepath.Base(cmakeLists))
			copied[top] = true // said once
		}
	}
	return nil
}

// runtimePackages returns the packages named by `apt-get install` in the runtime stage.
func runtimePackages(dockerfile string, runtime []string) (map[string]bool, error) {
	packages := map[string]bool{}
	for _, instruction := range runtime {
		fields := strings.Fields(instruction)
		if !strings.EqualFold(fields[0], "RUN") {
			continue
		}
		aptGet, installing := false, false
		for i := 1; i < len(fields); i++ {
			word := fields[i]
			switch {
			case word == "&&" || word == "||" || word == ";" || word == "|":
				aptGet, installing = false, false
			case word == "apt-get" || strings.HasSuffix(word, "/apt-get"):
				aptGet = true
			case aptGet && !installing && word == "install":
				installing = true
			case strings.HasPrefix(word, "-"):
				if word == "-o" {
					i++ // the option's value
				}
			case installing:
				name := strings.TrimSuffix(word, ";")
				name, _, _ = strings.Cut(name, "=")
				name, _, _ = strings.Cut(name, ":")
				packages[name] = true
				if strings.HasSuffix(word, ";") {
					aptGet, installing = false, false
				}
			}
		}
	}
	if len(packages) == 0 {
		return nil, fmt.Errorf("the last stage of %s installs no packages with apt-get install",
			dockerfile)
	}
	return packages, nil
}

// sharedLibraries returns the paths of the libraries `ldd` resolves for binary, the dynamic
// loader included; the kernel's vDSO has no file and is left out.
func sharedLibraries(binary string) ([]string, error) {
	out, err := exec.Command("ldd", binary).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %v\n%s", binary, err, out)
	}
	var libraries []string
	var missing []string
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 3 && fields[1] == "=>" && fields[2] == "not":
			missing = append(missing, fields[0])
		case len(fields) >= 3 && fields[1] == "=>" && strings.HasPrefix(fields[2], "/"):
			libraries = append(libraries, fields[2])
		case len(fields) >= 1 && strings.HasPrefix(fields[0], "/"):
			libraries = append(libraries, fields[0])
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("ldd %s: not found on this machine: %s", binary,
			strings.Join(missing, ", "))
	}
	if len(libraries) == 0 {
		return nil, fmt.Errorf("ldd %s listed no libraries:\n%s", binary, out)
	}
	return libraries, nil
}

// packageOwners asks dpkg, in one call, which packages hold each library. Debian 12 merged /lib
// into /usr/lib, but dpkg's database keeps the paths packages were built with, so both spellings
// are asked for, of the path as given and of the file its symlinks lead to.
func packageOwners(libraries []string) (map[string][]string, error) {
	candidates := map[string][]string{}
	asked := map[string]bool{}
	var all []string
	for _, library := range libraries {
		spellings := []string{library}
		if resolved, err := filepath.EvalSymlinks(library); err == nil && resolved != library {
			spellings = append(spellings, resolved)
		}
		for _, spelling := range append([]string(nil), spellings...) {
			for _, prefix := range []string{"/lib/", "/lib64/"} {
				if strings.HasPrefix(spelling, prefix) {
					spellings = append(spellings, "/usr"+spelling)
				}
				if strings.HasPrefix(spelling, "/usr"+prefix) {
					spellings = append(spellings, strings.TrimPrefix(spelling, "/usr"))
				}
			}
		}
		candidates[library] = spellings
		for _, spelling := range spellings {
			if !asked[spelling] {
				asked[spelling] = true
				all = append(all, spelling)
			}
		}
	}
	// dpkg exits 1 when some spellings are unknown to it, as most are; the output still holds
	// one "package[:arch][, package...]: path" line per known path.
	out, err := exec.Command("dpkg", append([]string{"-S"}, all...)...).Output()
	if len(out) == 0 && err != nil {
		return nil, fmt.Errorf("dpkg -S: %v", err)
	}
	byPath := map[string][]string{}
	for _, line := range strings.Split(string(out), "\n") {
		names, file, found := strings.Cut(line, ": ")
		if !found || strings.HasPrefix(line, "diversion ") {
			continue
		}
		for _, name := range strings.Split(names, ", ") {
			name, _, _ = strings.Cut(name, ":")
			if !contains(byPath[file], name) {
				byPath[file] = append(byPath[file], name)
			}
		}
	}
	owners := map[string][]string{}
	for _, library := range libraries {
		for _, spelling := range candidates[library] {
			if names := byPath[spelling]; len(names) > 0 {
				owners[library] = names
				break
			}
		}
	}
	return owners, nil
}

func sortedKeys(set map[string]bool) []string {
	keys := make([]string, 0, len(set))
	for key := range set {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
